// OpenTelemetry metrics for the sample backend, loaded before Backstage with
// `--require` (Backstage's own tutorial way). Metrics only: the plugins record
// through Backstage's metrics service, and this serves what they record to
// Prometheus. See docs/observability.md for what is measured.
const { isMainThread } = require('node:worker_threads');

// Node passes --require on to worker threads too; their metrics are not ours to serve.
if (isMainThread) {
  const { metrics } = require('@opentelemetry/api');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');

  // OTEL_EXPORTER_PROMETHEUS_PORT is the exporter's own variable; 9464 is its default.
  const port = Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT) || 9464;
  const exporter = new PrometheusExporter({ port }, error => {
    if (error) {
      console.warn(
        `Metrics are not served: port ${port} is taken (${error.message}); set OTEL_EXPORTER_PROMETHEUS_PORT to a free port`,
      );
    } else {
      console.log(`Metrics for Prometheus: http://localhost:${port}/metrics`);
    }
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
}
