/** Parsing of the monitoring keys. */
import { ConfigReader, rmCmd, setCmd } from "./reader";
import type { MonitoringSettings } from "./types";
import { isLabelKey, isLabelValue } from "./values";

/** Parses the monitoring keys. */
export function parseMonitoring(r: ConfigReader): MonitoringSettings {
    const prometheusOperator = r.bool("prometheusOperator", false);
    const labels = r.map("monitoringLabels", "release=kube-prometheus-stack", (k, v) =>
        !isLabelKey(k)
            ? "has a key that is not a label key"
            : !isLabelValue(v)
              ? "has a value that is not a label value"
              : undefined,
    );
    if (!prometheusOperator && Object.keys(labels).length > 0) {
        r.warn(
            "monitoringLabels",
            `is ignored: prometheusOperator is false, so no ServiceMonitor, PodMonitor or PrometheusRule is made. Remove it with \`${rmCmd("monitoringLabels")}\` or \`${setCmd("prometheusOperator", "true")}\`.`,
        );
    }
    return { prometheusOperator, labels };
}
