import type { StackValidationPolicy } from "@pulumi/policy";

import {
    CHART_DEFAULT_EXCLUSIONS,
    REQUIRED_EXCLUSIONS,
    excludes,
    exclusionsYaml,
    parseExclusions,
    showGroupKind,
} from "../lib/argocd";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { list } from "../lib/values";
import { releasesOf, valuesOf } from "../lib/velero";

/**
 * Argo CD leaves what Velero restores alone (DESIGN §5): `resource.exclusions` covers PVs, PVCs, Secrets and
 * Velero's Backups and Restores on the cluster Argo CD runs in, and, because setting the key replaces the
 * chart's list, still covers the chart's defaults. An entry scoped by `clusters` counts when it covers the
 * in-cluster server, so the first-install switch (a second registration of the cluster under another URL)
 * keeps passing.
 */
export const argocdResourceExclusions: StackValidationPolicy = {
    name: "argocd-resource-exclusions",
    description:
        "Checks that Argo CD's resource.exclusions exclude PersistentVolumes, PersistentVolumeClaims, Secrets and Velero's Backups and Restores, and keep the argo-cd chart's default exclusions.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "Argo CD must not manage what Velero restores: configs.cm[\"resource.exclusions\"] must exclude PersistentVolumes, PersistentVolumeClaims, Secrets and Velero's Backups and Restores, and keep the argo-cd chart's default exclusions, which setting the key replaces.";
        for (const release of releasesOf(view, "argo-cd")) {
            const yaml = exclusionsYaml(valuesOf(release));
            if (yaml === undefined) {
                report(
                    violation(
                        must,
                        `${label(release)} leaves configs.cm["resource.exclusions"] unset, and the chart's default list excludes none of them`,
                        'Set configs.cm["resource.exclusions"] to the chart\'s default list plus those kinds.',
                    ),
                    release.urn,
                );
                continue;
            }
            let exclusions;
            try {
                exclusions = parseExclusions(yaml);
            } catch (e) {
                report(
                    violation(
                        must,
                        `${label(release)}'s resource.exclusions is not a list of filters: ${(e as Error).message}`,
                        "Write it as a YAML list of {apiGroups, kinds, clusters} filters.",
                    ),
                    release.urn,
                );
                continue;
            }
            const missing = REQUIRED_EXCLUSIONS.filter((gk) => !excludes(exclusions, gk)).map(showGroupKind);
            if (missing.length > 0) {
                report(
                    violation(
                        must,
                        `${label(release)}'s resource.exclusions does not exclude ${list(missing)}`,
                        "Add filters for them (apiGroups and kinds, no clusters, labels or selector).",
                    ),
                    release.urn,
                );
            }
            const dropped = CHART_DEFAULT_EXCLUSIONS.filter((gk) => !excludes(exclusions, gk)).map(showGroupKind);
            if (dropped.length > 0) {
                report(
                    violation(
                        must,
                        `${label(release)}'s resource.exclusions drops the chart defaults ${list(dropped)}`,
                        'Carry over the argo-cd chart\'s default list (its values.yaml, configs.cm."resource.exclusions").',
                    ),
                    release.urn,
                );
            }
        }
    }),
};
