import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { inModes } from "../lib/policy";

/** A recovery reads the lost cluster's backups and writes its own elsewhere. */
export const veleroRecoverSourceReadOnly: StackValidationPolicy = {
    name: "velero-recover-source-read-only",
    description:
        "Checks that a recovery only reads the lost cluster's backups: every location but its own default one is ReadOnly and its own writes under another prefix.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover"], ({ locations }, report) => {
        const must =
            "A recovery must only read the lost cluster's backups: every backup storage location but its own default one must be ReadOnly, and its own must write under a prefix of its own.";
        const own = locations.find((l) => l.isDefault);
        for (const l of locations) {
            if (l !== own && l.accessMode !== "ReadOnly") {
                report(
                    violation(
                        must,
                        `location ${l.name} (${l.where}) is not the default location and has accessMode ${l.accessMode}`,
                        "Set accessMode: ReadOnly on it (gitops-dr's source location is).",
                    ),
                    l.node.urn,
                );
            }
        }
        if (own !== undefined && own.accessMode !== "ReadOnly") {
            for (const l of locations) {
                if (l !== own && l.bucket === own.bucket && (l.prefix ?? "") === (own.prefix ?? "")) {
                    report(
                        violation(
                            must,
                            `the default location ${own.name} writes to ${own.bucket ?? "(unset)"}/${own.prefix ?? ""}, where location ${l.name} restores from`,
                            "Set gitops-dr:prefix to a prefix of this cluster's own (it defaults to gitops-dr:clusterName).",
                        ),
                        own.node.urn,
                    );
                }
            }
        }
    }),
};
