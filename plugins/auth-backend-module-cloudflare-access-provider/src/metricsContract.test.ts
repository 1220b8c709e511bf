/** The metrics contract check itself: it finds the metrics, labels and values the contract does not have. */
import { contractProblems } from './__testUtils__/metricsContract';

describe('the checks themselves', () => {
  it('find unknown metrics, labels and values', () => {
    expect(
      contractProblems(
        'sum by (cfaccess_reson) (rate(cfaccess_sign_ins{job="x"}[5m])) / on (job) sum(cfaccess_cache_reads_total{cfaccess_cache_result=~"hit|forged"}) or cfaccess_keys_age offset 5m',
      ),
    ).toEqual([
      'unknown metric cfaccess_sign_ins',
      'cfaccess_cache_reads_total{cfaccess_cache_result} has no value forged',
      'unknown label cfaccess_reson',
    ]);
    expect(
      contractProblems('{__name__=~"cfaccess_sign_ins_total|cfaccess_users"}'),
    ).toEqual(['unknown metric cfaccess_users']);
  });
});
