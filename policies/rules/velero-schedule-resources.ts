import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { Json, list, strings } from "../lib/values";
import { dataSchedules } from "../lib/velero";

/** The resources every backup must hold, with the names Velero resolves for them through discovery. */
const REQUIRED = [
    { kind: "PersistentVolumes", names: ["persistentvolumes", "persistentvolume", "pv"], clusterScoped: true },
    {
        kind: "PersistentVolumeClaims",
        names: ["persistentvolumeclaims", "persistentvolumeclaim", "pvc"],
        clusterScoped: false,
    },
    { kind: "Secrets", names: ["secrets", "secret"], clusterScoped: false },
] as const;

function mentions(values: readonly string[], names: readonly string[]): boolean {
    return values.some((v) => names.includes(v.toLowerCase()));
}

/** Why a schedule's template leaves out a required kind, or undefined when it keeps it. */
function leftOut(template: Json, required: (typeof REQUIRED)[number]): string | undefined {
    const included = strings(template.includedResources);
    const scoped = strings(
        required.clusterScoped ? template.includedClusterScopedResources : template.includedNamespaceScopedResources,
    );
    const newFilters =
        template.includedClusterScopedResources !== undefined ||
        template.includedNamespaceScopedResources !== undefined;
    if (newFilters) {
        if (!scoped.includes("*") && !mentions(scoped, required.names)) {
            return `does not include ${required.kind} in ${required.clusterScoped ? "includedClusterScopedResources" : "includedNamespaceScopedResources"}`;
        }
    } else if (included.length > 0 && !included.includes("*") && !mentions(included, required.names)) {
        return `does not include ${required.kind} in includedResources`;
    }
    const excluded = [
        ...strings(template.excludedResources),
        ...strings(
            required.clusterScoped
                ? template.excludedClusterScopedResources
                : template.excludedNamespaceScopedResources,
        ),
    ];
    if (excluded.includes("*") || mentions(excluded, required.names)) {
        return `excludes ${required.kind}`;
    }
    if (required.clusterScoped && template.includeClusterResources === false) {
        return "sets includeClusterResources false, which leaves out PersistentVolumes";
    }
    return undefined;
}

/** Every schedule backs up PersistentVolumes, PersistentVolumeClaims and Secrets. */
export const veleroScheduleResources: StackValidationPolicy = {
    name: "velero-schedule-resources",
    description: "Checks that every backup schedule backs up PersistentVolumes, PersistentVolumeClaims and Secrets.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        for (const s of dataSchedules(view)) {
            const reasons = [
                ...new Set(REQUIRED.map((r) => leftOut(s.template, r)).filter((r): r is string => r !== undefined)),
            ];
            if (reasons.length > 0) {
                report(
                    violation(
                        "Every backup schedule must back up PersistentVolumes, PersistentVolumeClaims and Secrets, the data Argo CD cannot rebuild.",
                        `${s.where} ${list(reasons)}`,
                        "List persistentvolumes, persistentvolumeclaims and secrets in the template's includedResources, exclude none of them, and leave includeClusterResources unset or true (gitops-dr's schedules do).",
                    ),
                    s.node.urn,
                );
            }
        }
    }),
};
