import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { at, str } from "../lib/values";
import { restores, schedules } from "../lib/velero";

/**
 * A Restore names one source, and not the cluster's own schedule: with `scheduleName` Velero restores the
 * newest Completed backup carrying that schedule name from any location (DESIGN §1), which in a recovered
 * cluster can be one of its own new, near-empty backups.
 */
export const veleroRestoreSource: StackValidationPolicy = {
    name: "velero-restore-source",
    description:
        "Checks that every Restore names exactly one source (backupName or scheduleName) and never the restoring cluster's own schedule.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const own = schedules(view);
        for (const restore of restores(view)) {
            const backupName = str(at(restore.props, "spec", "backupName")) ?? "";
            const scheduleName = str(at(restore.props, "spec", "scheduleName")) ?? "";
            const must = "A Restore must name exactly one source: spec.backupName or spec.scheduleName.";
            if (backupName === "" && scheduleName === "") {
                report(
                    violation(
                        must,
                        `${label(restore)} sets neither`,
                        "Set spec.scheduleName to the source cluster's schedule, or spec.backupName to one of its backups.",
                    ),
                    restore.urn,
                );
            } else if (backupName !== "" && scheduleName !== "") {
                report(
                    violation(
                        must,
                        `${label(restore)} sets both backupName "${backupName}" and scheduleName "${scheduleName}"`,
                        "Keep only one of them; Velero rejects a Restore that sets both.",
                    ),
                    restore.urn,
                );
            } else if (scheduleName !== "") {
                const clash = own.find((s) => s.name === scheduleName);
                if (clash !== undefined) {
                    report(
                        violation(
                            "A Restore must not restore from the restoring cluster's own schedule: Velero picks the newest Completed backup of that name in any location, which can be the new cluster's own.",
                            `${label(restore)} restores schedule "${scheduleName}", which is this stack's ${clash.where}`,
                            "Name the cluster's schedules after the cluster (<clusterName>-<tier>, gitops-dr:clusterName) so they differ from the source's, or restore by spec.backupName.",
                        ),
                        restore.urn,
                    );
                }
            }
        }
    }),
};
