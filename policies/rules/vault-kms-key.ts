import type { StackValidationPolicy } from "@pulumi/policy";

import { schemaOf, thresholds } from "../lib/config";
import { ACCOUNT, parseDocument, principals, simulate, statements } from "../lib/iam";
import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { arr, at, str, strings } from "../lib/values";

/** What disables a vault key, deletes it, or rewrites the policy that forbids both. */
const KEY_DESTRUCTION = ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"] as const;

/** An administrator of the account: anything on anything, as IAM grants it. */
const ADMINISTRATOR = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/** The account of an ARN (`arn:partition:service:region:<account>:...`). */
const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];

/**
 * The vault's KMS keys: rotation on, and a key policy under which an administrator of the account cannot
 * disable the key, schedule its deletion or replace the policy (components/iam.ts `vaultKeyPolicy`), judged by
 * evaluating those requests with the key policy as the resource policy. And no KMS key of another account, in
 * the vault's encryption or the roles' grants, unless the policy's `allowedKmsKeyAccounts` names that account:
 * a key the organisation does not hold can be disabled by someone it does not control.
 */
export const vaultKmsKey: StackValidationPolicy = {
    name: "vault-kms-key",
    description:
        "Checks that the vault's KMS keys rotate and have a key policy that refuses an administrator kms:DisableKey, kms:ScheduleKeyDeletion and kms:PutKeyPolicy (evaluated), and that the stack uses no KMS key of another account unless allowedKmsKeyAccounts names it.",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("allowedKmsKeyAccounts"),
    validateStack: onStack(async ({ view, args }, report) => {
        const { allowedKmsKeyAccounts } = thresholds(args);
        for (const key of view.ofType(T.kmsKey)) {
            if (key.props.enableKeyRotation !== true) {
                report(
                    violation(
                        "A vault KMS key must rotate its key material every year.",
                        `${label(key)} has enableKeyRotation ${JSON.stringify(key.props.enableKeyRotation ?? null)}`,
                        "Set enableKeyRotation: true (gitops-dr's BackupVault does).",
                    ),
                    key.urn,
                );
            }
            const must =
                "A vault KMS key's policy must refuse every principal but the break-glass ones kms:DisableKey, kms:ScheduleKeyDeletion and kms:PutKeyPolicy: without it any administrator can make every backup unreadable.";
            const fix =
                "Give the key the policy components/iam.ts vaultKeyPolicy builds, with gitops-dr:breakGlassPrincipalArns naming the only principals that may.";
            const policy = parseDocument(key.props.policy);
            if (policy === undefined) {
                report(
                    violation(
                        must,
                        `${label(key)} has ${key.props.policy === undefined ? "no key policy, so the account's default lets IAM administrators do all three" : "a key policy that is not valid JSON"}`,
                        fix,
                    ),
                    key.urn,
                );
                continue;
            }
            const allowed: string[] = [];
            for (const action of KEY_DESTRUCTION) {
                const { decision, error } = await simulate({
                    identity: [{ name: "administrator", policy: ADMINISTRATOR }],
                    action,
                    resource: `arn:aws:kms:${str(key.props.region) ?? "us-east-1"}:${ACCOUNT}:key/vault`,
                    bucketPolicy: policy,
                    principal: `arn:aws:iam::${ACCOUNT}:role/pack-administrator`,
                    mode: "Strict",
                });
                if (error !== undefined) {
                    allowed.push(`${action} (the policy cannot be evaluated: ${error})`);
                } else if (decision !== "ExplicitlyDenied") {
                    allowed.push(action);
                }
            }
            if (allowed.length > 0) {
                report(
                    violation(must, `under ${label(key)}'s policy an administrator may ${allowed.join(", ")}`, fix),
                    key.urn,
                );
            }
        }

        // The stack's account, from the ARNs of what it created; then every KMS key it names must be there.
        const accounts = new Set(
            [...view.ofType(T.iamRole), ...view.ofType(T.iamPolicy), ...view.ofType(T.kmsKey)]
                .map((n) => accountOf(str(n.props.arn) ?? ""))
                .filter((a): a is string => a !== undefined),
        );
        if (accounts.size === 0) {
            return;
        }
        const keyArns: { arn: string; where: string }[] = [];
        for (const setting of view.ofType(T.encryption)) {
            for (const rule of arr(setting.props.rules) ?? []) {
                const id = str(at(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId"));
                if (id !== undefined) {
                    keyArns.push({ arn: id, where: label(setting) });
                }
            }
        }
        for (const principal of principals(view)) {
            for (const d of principal.documents) {
                for (const s of statements(d.document)) {
                    const resources = strings(s.Resource);
                    resources
                        .filter((r) => r.startsWith("arn:") && r.split(":")[2] === "kms")
                        .forEach((arn) => keyArns.push({ arn, where: `${principal.label} (${d.name})` }));
                }
            }
        }
        const foreign = keyArns.filter((k) => {
            const account = accountOf(k.arn);
            return account !== undefined && !accounts.has(account) && !allowedKmsKeyAccounts.includes(account);
        });
        if (foreign.length > 0) {
            report(
                violation(
                    `The vault's data must be encrypted with keys of the stack's own account (${[...accounts].join(", ")}) or of an account the organisation allows.`,
                    foreign.map((k) => `${k.where} uses ${k.arn}`).join("; "),
                    "Use a KMS key of this account (gitops-dr:kmsKeyArn), or add its account to this policy's allowedKmsKeyAccounts.",
                ),
            );
        }
    }),
};
