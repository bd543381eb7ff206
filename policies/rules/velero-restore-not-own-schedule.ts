import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { at, str } from "../lib/values";
import { restores, schedules } from "../lib/velero";

/**
 * A Restore never restores the cluster's own schedule: with `scheduleName` Velero restores the newest Completed
 * backup carrying that schedule name from any location (DESIGN §1), which in a recovered cluster can be one of its
 * own new, near-empty backups. Judged on the live Restore too: Velero fills `scheduleName` in from a named
 * backup's label, so a recovery that restores one of its own backups by name is caught as well. A protect
 * stack's namespace restore restores its own schedule on purpose: the policy applies to recover and drill.
 */
export const veleroRestoreNotOwnSchedule: StackValidationPolicy = {
    name: "velero-restore-not-own-schedule",
    description: "Checks that no Restore restores from one of the restoring cluster's own schedules.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover", "drill"], ({ view }, report) => {
        const own = schedules(view);
        for (const restore of restores(view)) {
            const scheduleName = str(at(restore.props, "spec", "scheduleName")) ?? "";
            const clash = own.find((s) => scheduleName !== "" && s.name === scheduleName);
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
    }),
};
