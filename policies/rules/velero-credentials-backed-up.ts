import type { StackValidationPolicy } from "@pulumi/policy";

import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { Json, arr, obj, str, strings } from "../lib/values";
import { VERIFY_SCRATCH_NAMESPACES, schedules } from "../lib/velero";

/** The labels whose Secrets neither git nor the daily backup brings back (components/velero/credentials.ts). */
const NEEDED = [
    { label: "sealedsecrets.bitnami.com/sealed-secrets-key", what: "Sealed Secrets' sealing keys" },
    { label: "argocd.argoproj.io/secret-type", what: "Argo CD's repository and cluster credentials" },
] as const;

/** The label keys a template's selectors require (`Exists` or `In`), per OR'ed selector. */
function selectedLabels(template: Json): string[] {
    const selectors = [obj(template.labelSelector), ...(arr(template.orLabelSelectors) ?? []).map(obj)];
    const keys: string[] = [];
    for (const selector of selectors) {
        for (const key of Object.keys(obj(selector?.matchLabels) ?? {})) {
            keys.push(key);
        }
        for (const e of arr(selector?.matchExpressions) ?? []) {
            const op = str(obj(e)?.operator);
            if (op === "Exists" || op === "In") {
                keys.push(str(obj(e)?.key) ?? "");
            }
        }
    }
    return keys;
}

/**
 * Advice: a stack that takes backups also backs up the credentials a rebuild needs before Argo CD syncs. The
 * daily backup excludes the namespaces they live in (kube-system, Argo CD's), so without a credentials Schedule
 * every SealedSecret in git is undecryptable after a rebuild and Argo CD cannot reach private repositories.
 */
export const veleroCredentialsBackedUp: StackValidationPolicy = {
    name: "velero-credentials-backed-up",
    description:
        "Advises a running backup schedule for Sealed Secrets' sealing keys and Argo CD's credentials, across all namespaces.",
    enforcementLevel: "advisory",
    validateStack: inModes(["protect", "recover"], ({ view }, report) => {
        const all = schedules(view).filter((s) => !s.paused);
        const everywhere = (template: Json) => {
            const included = strings(template.includedNamespaces);
            return (
                (included.length === 0 || included.includes("*")) &&
                // The verification's scratch copies are the only namespaces it may leave out.
                strings(template.excludedNamespaces).every((e) => e === VERIFY_SCRATCH_NAMESPACES)
            );
        };
        const missing = NEEDED.filter(
            (n) =>
                !all.some(
                    (s) =>
                        everywhere(s.template) &&
                        (s.kind === "credentials" ? selectedLabels(s.template).includes(n.label) : false),
                ),
        );
        if (missing.length > 0) {
            report(
                violation(
                    "A stack that takes backups should back up the credentials a rebuild needs before Argo CD syncs: the daily backup excludes the namespaces they live in.",
                    `no running credentials schedule across all namespaces selects ${missing.map((m) => `${m.what} (${m.label})`).join(" or ")}`,
                    "Keep gitops-dr's <clusterName>-credentials Schedule (components/velero/credentials.ts): Secrets only, every namespace, selected by these labels.",
                ),
            );
        }
    }),
};
