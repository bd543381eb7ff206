import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { schedules } from "../lib/velero";
import { str } from "../lib/values";

/**
 * Every schedule writes to a location of the stack that can take a backup. Velero fails validation of a backup
 * whose `storageLocation` is ReadOnly ("backup can't be created because backup storage location %s is currently
 * in read-only mode") or does not exist (velero v1.18.1 `pkg/controller/backup_controller.go`
 * `prepareBackupRequest`), so such a schedule backs up nothing, every day, while it looks configured. A schedule without `storageLocation` uses the default location,
 * which must then be writable.
 */
export const veleroScheduleLocation: StackValidationPolicy = {
    name: "velero-schedule-location",
    description:
        "Checks that every backup schedule writes to a backup storage location the stack registers and that is not ReadOnly (an unset storageLocation means the default one).",
    enforcementLevel: "mandatory",
    validateStack: inModes(["protect", "recover"], ({ view, locations }, report) => {
        const must =
            "Every backup schedule must write to a backup storage location of the stack that accepts backups; otherwise every backup it starts fails and nothing is backed up.";
        for (const s of schedules(view)) {
            const named = str(s.template.storageLocation);
            const target =
                named === undefined || named === ""
                    ? locations.find((l) => l.isDefault)
                    : locations.find((l) => l.name === named);
            const what = named === undefined || named === "" ? "the default location" : `location ${named}`;
            if (target === undefined) {
                report(
                    violation(
                        must,
                        `${s.where} writes to ${what}, which the stack does not register`,
                        "Set the template's storageLocation to the stack's own ReadWrite location (gitops-dr's schedules use the default one).",
                    ),
                    s.node.urn,
                );
            } else if (target.accessMode === "ReadOnly") {
                report(
                    violation(
                        must,
                        `${s.where} writes to ${what} (${target.where}), which is ReadOnly`,
                        "Point the schedule at the stack's own ReadWrite location; a ReadOnly location only serves restores.",
                    ),
                    s.node.urn,
                );
            }
        }
    }),
};
