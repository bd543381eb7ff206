import type { StackValidationPolicy } from "@pulumi/policy";

import { globMatch } from "../lib/argocd";
import { schemaOf, thresholds } from "../lib/config";
import { violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { list, strings } from "../lib/values";
import { VERIFY_SCRATCH_NAMESPACES, dataSchedules } from "../lib/velero";

/**
 * Every schedule keeps the cluster's own namespaces (kube-system by default) out of its backups, and the weekly
 * verification's scratch namespaces: the pattern itself must be out (an exclusion that covers it, such as `gdr-*`).
 */
export const veleroScheduleExcludedNamespaces: StackValidationPolicy = {
    name: "velero-schedule-excluded-namespaces",
    description:
        "Checks that every backup schedule excludes the configured namespaces (kube-system by default) and the weekly verification's scratch namespaces.",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("requiredExcludedNamespaces"),
    validateStack: onStack(({ view, args }, report) => {
        const { requiredExcludedNamespaces } = thresholds(args);
        for (const s of dataSchedules(view)) {
            const excluded = strings(s.template.excludedNamespaces);
            const included = strings(s.template.includedNamespaces);
            // Velero matches namespace filters as globs; a namespace outside an explicit include list is out too.
            const isOut = (ns: string) =>
                excluded.some((e) => globMatch(e, ns)) ||
                (included.length > 0 && !included.some((i) => globMatch(i, ns)));
            const missing = requiredExcludedNamespaces.filter((ns) => !isOut(ns));
            if (missing.length > 0) {
                report(
                    violation(
                        `Every backup schedule must exclude ${list(requiredExcludedNamespaces)}: restoring a cluster's own system objects into a new cluster breaks it.`,
                        `${s.where} does not exclude ${list(missing)}`,
                        "Add them to the template's excludedNamespaces (gitops-dr always excludes kube-system, kube-public, kube-node-lease, Velero's and Argo CD's namespaces; gitops-dr:excludedNamespaces adds more).",
                    ),
                    s.node.urn,
                );
            }
            if (!isOut(VERIFY_SCRATCH_NAMESPACES)) {
                report(
                    violation(
                        `Every backup schedule must exclude the weekly verification's scratch namespaces (${VERIFY_SCRATCH_NAMESPACES}): a backup taken during a verification would keep restored copies under names no restore maps back.`,
                        `${s.where} does not exclude ${VERIFY_SCRATCH_NAMESPACES}`,
                        `Add ${VERIFY_SCRATCH_NAMESPACES} to the template's excludedNamespaces (gitops-dr's Schedules do; Velero 1.18 matches it as a glob).`,
                    ),
                    s.node.urn,
                );
            }
        }
    }),
};
