import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { schedules } from "../lib/velero";

/** A drill reads prod's backups and writes nothing: ReadOnly locations only, no schedule. */
export const veleroDrillReadOnly: StackValidationPolicy = {
    name: "velero-drill-read-only",
    description:
        "Checks that a drill only reads the vault: every backup storage location is ReadOnly and there is no backup schedule.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["drill"], ({ view, locations }, report) => {
        const must =
            "A drill must only read the vault: every backup storage location must be ReadOnly and there must be no backup schedule.";
        for (const l of locations) {
            if (l.accessMode !== "ReadOnly") {
                report(
                    violation(
                        must,
                        `location ${l.name} (${l.where}) has accessMode ${l.accessMode}`,
                        "Set accessMode: ReadOnly; a drill has only the read-only source location (gitops-dr:mode drill).",
                    ),
                    l.node.urn,
                );
            }
        }
        for (const s of schedules(view)) {
            report(
                violation(
                    must,
                    `${s.where} exists`,
                    "Remove it: a drill takes no backups (leave gitops-dr:backupSchedule and the TTL keys unset in a drill stack).",
                ),
                s.node.urn,
            );
        }
    }),
};
