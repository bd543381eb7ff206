/**
 * The `no-plaintext-secret` check: no stack secret shows in clear in a release's rendered objects or in the
 * values Pulumi stores for it.
 */
import { objectName } from "./manifests";
import { KubeObject, ReleaseRecord, SecretValue } from "./records";
import { CheckResult, result } from "./report";
import { forEachString } from "./values";

/** Whether a values path lies inside one of the secret paths (`a.b` covers `a.b`, `a.b.c`, `a.b[0]`). */
function covered(at: string, secretPaths: readonly string[]): boolean {
    return secretPaths.some((p) => p === "" || at === p || at.startsWith(`${p}.`) || at.startsWith(`${p}[`));
}

/**
 * No stack secret in plain text: not in any rendered object outside a Secret's `data`/`stringData`, also not
 * base64-encoded; and not in the release values unless the program passed it as a secret (else Pulumi stores
 * the values, and shows them in a preview, in plain text).
 */
export function checkNoPlaintextSecrets(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    secrets: readonly SecretValue[],
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const problems: string[] = [];
    const encoded = secrets.map((s) => ({ ...s, b64: Buffer.from(s.value).toString("base64") }));
    for (const o of manifests) {
        forEachString(o, "", (at, s) => {
            if (o.kind === "Secret" && /^(data|stringData)\./.test(at)) {
                return;
            }
            for (const secret of encoded) {
                if (s.includes(secret.value) || s.includes(secret.b64)) {
                    problems.push(`${objectName(o)} ${at} holds ${secret.label} in plain text`);
                }
            }
        });
    }
    forEachString(release.values, "", (at, s) => {
        if (covered(at, release.secretValuePaths)) {
            return;
        }
        for (const secret of secrets) {
            if (s.includes(secret.value)) {
                problems.push(
                    `values.${at} holds ${secret.label} but is not a secret input: Pulumi would store it in plain text`,
                );
            }
        }
    });
    return [
        result(
            "no-plaintext-secret",
            subject,
            problems,
            `none of ${secrets.length} stack secret(s) appears in plain text`,
        ),
    ];
}
