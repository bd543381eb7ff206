import type { ResourceValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { propsOf } from "../lib/policy";
import { T } from "../lib/types";
import { at, str } from "../lib/values";

/**
 * A Restore names one source, as the program registers it. Judged on the Restore's inputs: Velero itself fills in
 * the other field once it has validated the Restore (`restore_controller.go` `validateAndComplete`: `backupName`
 * with the backup it chose for a `scheduleName`, `scheduleName` with the schedule of a named backup), so the live
 * object that stack policies see after `pulumi up` always has both.
 */
export const veleroRestoreSource: ResourceValidationPolicy = {
    name: "velero-restore-source",
    description:
        "Checks that every Restore the program registers names exactly one source: backupName or scheduleName.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type !== T.restore) {
            return;
        }
        const props = propsOf(args);
        const backupName = str(at(props, "spec", "backupName")) ?? "";
        const scheduleName = str(at(props, "spec", "scheduleName")) ?? "";
        const restore = { type: args.type, name: args.name };
        const must = "A Restore must name exactly one source: spec.backupName or spec.scheduleName.";
        if (backupName === "" && scheduleName === "") {
            report(
                violation(
                    must,
                    `${label(restore)} sets neither`,
                    "Set spec.scheduleName to the source cluster's schedule, or spec.backupName to one of its backups.",
                ),
            );
        } else if (backupName !== "" && scheduleName !== "") {
            report(
                violation(
                    must,
                    `${label(restore)} sets both backupName "${backupName}" and scheduleName "${scheduleName}"`,
                    "Keep only one of them; Velero rejects a Restore that sets both.",
                ),
            );
        }
    },
};
