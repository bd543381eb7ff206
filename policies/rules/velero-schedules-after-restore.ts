import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { restores, schedules } from "../lib/velero";

/**
 * A recovered cluster's schedules start after its restore: a Schedule's first backup runs at its next cron
 * tick after creation (velero `schedule_controller.go`), so creating the Schedules once the awaited Restore
 * has completed keeps them from backing up a half-restored cluster over the new prefix.
 */
export const veleroSchedulesAfterRestore: StackValidationPolicy = {
    name: "velero-schedules-after-restore",
    description:
        "Checks that a recover stack creates its backup schedules only after the Restore, so none fires before the restore has ended.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover"], ({ view, args }, report) => {
        const found = restores(view);
        if (found.length === 0) {
            args.notApplicable("the stack has no Restore (velero-restore-after-sync-barrier reports it)");
        }
        const must =
            "A recovered cluster's backup schedules must not fire before the restore has ended: each Schedule must be created after the Restore.";
        for (const s of schedules(view)) {
            if (s.fromChart) {
                report(
                    violation(
                        must,
                        `${s.where} is rendered by the velero chart, so it exists as soon as Velero is installed, before the Restore`,
                        "Register the schedules as velero.io/v1 Schedule objects that depend on the Restore (gitops-dr does in recover mode).",
                    ),
                    s.node.urn,
                );
                continue;
            }
            for (const restore of found) {
                if (!view.dependsOn(s.node, restore)) {
                    report(
                        violation(
                            must,
                            `${label(s.node)} does not depend on ${label(restore)}`,
                            "Make the Schedule depend on the Restore (an input or dependsOn).",
                        ),
                        s.node.urn,
                    );
                }
            }
        }
    }),
};
