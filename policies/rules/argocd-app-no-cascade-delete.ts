import type { ResourceValidationPolicy } from "@pulumi/policy";

import { isCascadeFinalizer } from "../lib/argocd";
import { label, violation } from "../lib/message";
import { propsOf } from "../lib/policy";
import { T } from "../lib/types";
import { at, strings } from "../lib/values";

/**
 * No Application deletes its workloads when it goes: Argo CD's resources finalizer makes deleting an
 * Application (a Pulumi replace or destroy) delete everything it deployed, restored volumes included.
 */
export const argocdAppNoCascadeDelete: ResourceValidationPolicy = {
    name: "argocd-app-no-cascade-delete",
    description:
        "Checks that no Argo CD Application (or ApplicationSet template) carries the resources finalizer that cascade-deletes its workloads.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const props = propsOf(args);
        const finalizers =
            args.type === T.application
                ? strings(at(props, "metadata", "finalizers"))
                : args.type === T.applicationSet
                  ? strings(at(props, "spec", "template", "metadata", "finalizers"))
                  : [];
        for (const finalizer of finalizers.filter(isCascadeFinalizer)) {
            report(
                violation(
                    "No Application may cascade-delete its workloads when Pulumi replaces or destroys it.",
                    args.type === T.application
                        ? `${label(args)} has the finalizer ${finalizer}`
                        : `${label(args)} gives its Applications the finalizer ${finalizer}`,
                    "Remove it from the finalizers; deleting the Application then leaves its workloads and their volumes in place.",
                ),
            );
        }
    },
};
