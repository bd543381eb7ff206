import type { StackValidationPolicy } from "@pulumi/policy";

import { NEW_APP_VOLUMES_OUTPUT } from "../lib/argocd";
import { violation } from "../lib/message";
import { onStack } from "../lib/policy";

/** Advice: the new-app volumes switch is a one-off, not a state to stay in. */
export const argocdNewAppVolumesSwitch: StackValidationPolicy = {
    name: "argocd-new-app-volumes-switch",
    description: "Advises turning the new-app volumes switch off again once a new app's claims and secrets exist.",
    enforcementLevel: "advisory",
    validateStack: onStack(({ view }, report) => {
        if (view.outputs()[NEW_APP_VOLUMES_OUTPUT] === true) {
            report(
                violation(
                    "The new-app volumes switch should be on only while a new app's claims and secrets are created: while it is on, Argo CD manages every PersistentVolumeClaim and Secret, and can prune or overwrite restored ones.",
                    `the stack output ${NEW_APP_VOLUMES_OUTPUT} is true`,
                    "Turn the switch off again once the new app has synced.",
                ),
            );
        }
    }),
};
