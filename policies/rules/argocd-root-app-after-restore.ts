import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { T } from "../lib/types";
import { restores } from "../lib/velero";

/**
 * In a recovery or drill Argo CD syncs only after the restore (DESIGN §1, step 4): workloads must bind to the
 * restored claims. The Argo CD chart may install meanwhile; what makes it sync, its Applications, must wait
 * for the Restore, which velero-restore-after-sync-barrier requires to be awaited until Completed.
 */
export const argocdRootAppAfterRestore: StackValidationPolicy = {
    name: "argocd-root-app-after-restore",
    description:
        "Checks that in a recover or drill stack every Argo CD Application and ApplicationSet waits for the Restore.",
    enforcementLevel: "mandatory",
    validateStack: inModes(["recover", "drill"], ({ view, args }, report) => {
        const found = restores(view);
        if (found.length === 0) {
            args.notApplicable("the stack has no Restore (velero-restore-after-sync-barrier reports it)");
        }
        for (const app of [...view.ofType(T.application), ...view.ofType(T.applicationSet)]) {
            for (const restore of found) {
                if (!view.dependsOn(app, restore)) {
                    report(
                        violation(
                            "In a recovery or drill, Argo CD must not sync before the restore has ended: every Application must wait for the Restore.",
                            `${label(app)} does not depend on ${label(restore)}`,
                            "Make the Application depend on the Restore (an input taken from it, or dependsOn).",
                        ),
                        app.urn,
                    );
                }
            }
        }
    }),
};
