import type { StackValidationPolicy } from "@pulumi/policy";

import { label, violation } from "../lib/message";
import { onStack } from "../lib/policy";
import { at, str } from "../lib/values";
import {
    REPO_CREDENTIALS_SECRET,
    REPO_PASSWORD_KEY,
    VELERO_DEFAULT_REPO_PASSWORD,
    releaseNamespace,
    releasesOf,
    repoCredentialSecrets,
    repoPassword,
} from "../lib/velero";

/** Our own kopia repository password, in place before Velero starts (DESIGN §2). */
export const veleroRepositoryPassword: StackValidationPolicy = {
    name: "velero-repository-password",
    description:
        "Checks that Velero's kopia repository password Secret exists before Velero starts and does not hold Velero's public default password.",
    enforcementLevel: "mandatory",
    validateStack: onStack(({ view }, report) => {
        const must =
            "Velero's kopia repository password must be the stack's own, in a velero-repo-credentials Secret that exists before Velero starts; without it Velero creates the Secret with its public default password, which can only be changed before the first backup.";
        for (const release of releasesOf(view, "velero")) {
            const namespace = releaseNamespace(release);
            const secrets = repoCredentialSecrets(view).filter(
                (s) => str(at(s.props, "metadata", "namespace")) === namespace,
            );
            if (secrets.length === 0) {
                report(
                    violation(
                        must,
                        `no Secret ${REPO_CREDENTIALS_SECRET} in namespace ${namespace ?? "(unset)"} for ${label(release)}`,
                        "Set gitops-dr:repoPassword with pulumi config set --secret so the stack creates the Secret, and keep a copy outside the cluster.",
                    ),
                    release.urn,
                );
                continue;
            }
            for (const secret of secrets) {
                const password = repoPassword(secret);
                if (password === undefined || password === "") {
                    report(
                        violation(
                            must,
                            `${label(secret)} has no ${REPO_PASSWORD_KEY}`,
                            `Put the password under stringData["${REPO_PASSWORD_KEY}"] (gitops-dr:repoPassword).`,
                        ),
                        secret.urn,
                    );
                } else if (password === VELERO_DEFAULT_REPO_PASSWORD) {
                    report(
                        violation(
                            must,
                            `${label(secret)} holds Velero's default password`,
                            'Set gitops-dr:repoPassword to a generated secret, e.g. "$(openssl rand -base64 32)", before the first backup.',
                        ),
                        secret.urn,
                    );
                }
                if (!view.dependsOn(release, secret)) {
                    report(
                        violation(
                            must,
                            `${label(release)} does not wait for ${label(secret)}`,
                            "Make the Velero release depend on the Secret (dependsOn), so Velero never starts without it.",
                        ),
                        release.urn,
                    );
                }
            }
        }
    }),
};
