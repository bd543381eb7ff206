import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { T } from "../lib/types";
import { stringLeaves } from "../lib/values";
import { repoCredentialSecrets, repoPassword } from "../lib/velero";
import type { Node } from "../lib/view";

/** An AWS access key id (long-term `AKIA`, temporary `ASIA`): 20 characters of base32. */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z2-7]{16}\b/;
/** `aws_secret_access_key = ...` in a shared credentials file. */
const SECRET_KEY_LINE = /aws_secret_access_key\s*=\s*\S+/i;
/** Keys that hold a secret access key or a repository password, whatever their spelling. */
const SECRET_KEY_NAME = /^(aws)?secretaccesskey$/;
const PASSWORD_KEY_NAME = /^(repository|repo|kopia)password$/;
/** Credentials in a URL's userinfo (`https://user:token@host`, `https://token@host`); ssh's `git@` names a user only. */
const URL_CREDENTIALS = /\bhttps?:\/\/[^\s/@:]+(?::[^\s/@]+)?@/;
/** Git hosting tokens by their documented prefixes: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab (`glpat-`). */
const GIT_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,})\b/;
/** A PEM private key block (an ssh deploy key, a TLS or sealing key). */
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Whether a property path of a node is a Kubernetes Secret's data. `@pulumi/kubernetes` wraps a Secret's
 * `data` and `stringData` in `pulumi.secret` and lists them as additional secret outputs (its
 * `core/v1/secret.js`), so they are encrypted in state whatever the program passes. The analyzer protocol
 * hands policies secrets unwrapped, so everywhere else a credential is judged by what it looks like.
 */
function inSecretData(node: Node, path: string): boolean {
    return node.type === T.secret && /^(data|stringData)(\.|$)/.test(path);
}

/** No AWS key or repository password outside Kubernetes Secret data: not in Helm values, other objects or outputs. */
export const veleroNoPlaintextCredentials: StackValidationPolicy = {
    name: "velero-no-plaintext-credentials",
    description:
        "Checks that no AWS key, repository password (plain or base64), PEM private key, git token or URL with credentials appears in plain text outside Kubernetes Secret data: not in Helm values, other resources or stack outputs.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "AWS keys, the repository password and other credentials (private keys, git tokens) must only appear in Kubernetes Secret data, which Pulumi keeps encrypted; anywhere else they are stored and displayed in plain text.";
        const passwords = repoCredentialSecrets(view)
            .map(repoPassword)
            .filter((p): p is string => p !== undefined && p.length >= 8);
        // The known secrets base64-encoded too, as a values file or a manifest would carry them.
        const encoded = passwords.map((p) => Buffer.from(p, "utf8").toString("base64"));
        for (const node of view.nodes) {
            const isOutputs = node.type === T.stack;
            for (const leaf of stringLeaves(node.props)) {
                if (inSecretData(node, leaf.path) || leaf.value === "") {
                    continue;
                }
                const key = leaf.key.toLowerCase().replace(/[-_]/g, "");
                let what: string | undefined;
                if (ACCESS_KEY_ID.test(leaf.value)) {
                    what = "an AWS access key id";
                } else if (SECRET_KEY_LINE.test(leaf.value) || SECRET_KEY_NAME.test(key)) {
                    what = "an AWS secret access key";
                } else if (passwords.some((p) => leaf.value.includes(p)) || PASSWORD_KEY_NAME.test(key)) {
                    what = "the repository password";
                } else if (encoded.some((p) => leaf.value.includes(p))) {
                    what = "the repository password, base64-encoded";
                } else if (PEM_PRIVATE_KEY.test(leaf.value)) {
                    what = "a PEM private key";
                } else if (GIT_TOKEN.test(leaf.value)) {
                    what = "a git hosting token";
                } else if (URL_CREDENTIALS.test(leaf.value)) {
                    what = "credentials in a URL";
                }
                if (what === undefined) {
                    continue;
                }
                report(
                    violation(
                        must,
                        isOutputs
                            ? `${what} in the stack output ${leaf.path}`
                            : `${what} in ${label(node)} at ${leaf.path}`,
                        isOutputs
                            ? "Do not export it; whoever needs it reads it with pulumi config get --secret."
                            : "Keep it in a Kubernetes Secret's stringData, set from pulumi config set --secret (gitops-dr:awsAccessKeyId, gitops-dr:awsSecretAccessKey, gitops-dr:repoPassword, gitops-dr:gitPassword, gitops-dr:gitSshPrivateKey), and reference the Secret (credentials.existingSecret for the AWS keys).",
                    ),
                    node.urn,
                );
            }
        }
    }),
};
