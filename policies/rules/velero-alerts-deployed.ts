import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { T } from "../lib/types";
import { arr, at, bool } from "../lib/values";
import { releasesOf, valuesOf } from "../lib/velero";

/** Advice: alerts on Velero's metrics where backups are taken. */
export const veleroAlertsDeployed: StackValidationPolicy = {
    name: "velero-alerts-deployed",
    description: "Advises deploying alerts on Velero's backup metrics in a stack that takes backups.",
    enforcementLevel: "advisory",
    validateStack: inModes(["protect", "recover"], ({ view }, report) => {
        const fromChart = releasesOf(view, "velero").some((r) => {
            const values = valuesOf(r);
            return (
                bool(at(values, "metrics", "prometheusRule", "enabled")) === true &&
                (arr(at(values, "metrics", "prometheusRule", "spec")) ?? []).length > 0
            );
        });
        const fromRule = view
            .ofType(T.prometheusRule)
            .some((r) => JSON.stringify(r.props.spec ?? {}).includes("velero_"));
        if (!fromChart && !fromRule) {
            report(
                violation(
                    "A stack that takes backups should alert when they fail or stop: otherwise a broken backup is found at restore time.",
                    "neither the velero chart's metrics.prometheusRule nor a PrometheusRule with alerts on Velero's metrics",
                    "Set gitops-dr:prometheusOperator to true where the Prometheus operator runs.",
                ),
            );
        }
    }),
};
