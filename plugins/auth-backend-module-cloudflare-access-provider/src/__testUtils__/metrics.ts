/** A real OpenTelemetry SDK behind the module's metrics, read back without a server. */
import { Attributes, metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { DataPoint, MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * Makes an SDK meter provider the global one for the tests of the enclosing
 * describe (Backstage's metrics service and the module's meters read it), and
 * reads what they recorded.
 */
export function useRecordedMetrics() {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  beforeAll(() => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  });
  afterAll(() => metrics.disable());

  /** The points recorded so far for the instrument `name`. */
  async function points<T>(name: string): Promise<DataPoint<T>[]> {
    const { resourceMetrics } = await exporter.collect();
    return resourceMetrics.scopeMetrics
      .flatMap(scope => scope.metrics)
      .filter(metric => metric.descriptor.name === name)
      .flatMap(metric => metric.dataPoints as DataPoint<T>[]);
  }

  return {
    points,
    /** The counter `name` so far, summed over the points with these attributes. */
    async count(name: string, attributes: Attributes): Promise<number> {
      return (await points<number>(name))
        .filter(point =>
          Object.entries(attributes).every(
            ([key, value]) => point.attributes[key] === value,
          ),
        )
        .reduce((sum, point) => sum + point.value, 0);
    },
  };
}
