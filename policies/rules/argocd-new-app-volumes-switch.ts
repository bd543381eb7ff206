import type { StackValidationPolicy } from "@pulumi/policy";

import { FIRST_INSTALL_APPS_OUTPUT, LEGACY_SEED_OF_LABEL, SEED_OF_LABEL } from "../lib/argocd";
import { violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { at, list, str, strings } from "../lib/values";

/**
 * Advice: the new-app volumes switch (gitops-dr:newAppVolumes) is a one-off. While it is on, the program
 * exports the apps as `argoCdFirstInstallApps` and registers a seed Application per app, labelled
 * `gitops-dr.io/seed-of` (or the legacy `gitops-dr/seed-of`), which lets Argo CD create that app's claims and Secrets.
 */
export const argocdNewAppVolumesSwitch: StackValidationPolicy = {
    name: "argocd-new-app-volumes-switch",
    description: "Advises turning the new-app volumes switch off again once a new app's claims and secrets exist.",
    enforcementLevel: "advisory",
    validateStack: onStack(({ view }, report) => {
        const fromOutput = strings(view.outputs()[FIRST_INSTALL_APPS_OUTPUT]);
        const fromSeeds = view
            .ofType(T.application)
            .map(
                (a) =>
                    str(at(a.props, "metadata", "labels", SEED_OF_LABEL)) ??
                    str(at(a.props, "metadata", "labels", LEGACY_SEED_OF_LABEL)),
            )
            .filter((a): a is string => a !== undefined);
        const apps = [...new Set([...fromOutput, ...fromSeeds])].sort();
        if (apps.length > 0) {
            report(
                violation(
                    "The new-app volumes switch should be on only while a new app's claims and secrets are created: while it is on, Argo CD may create PersistentVolumeClaims and Secrets for those apps.",
                    `the switch is on for ${list(apps)}`,
                    "Once their claims and Secrets exist, turn it off: pulumi config rm gitops-dr:newAppVolumes, then pulumi up.",
                ),
            );
        }
    }),
};
