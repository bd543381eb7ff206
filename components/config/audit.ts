/** Parsing of the keys that move the vault into an account of its own and audit it. */
import { ConfigReader, q, rmCmd, setCmd, setListCmd } from "./reader";
import type { AuditSettings, CredentialSettings, Mode, VaultAccountSettings, VaultSettings } from "./types";
import { isValidBucketName } from "./values";

/** An IAM role ARN: partition, account, path and name (IAM "IAM identifiers"). */
export const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/([\w+=,.@/-]{1,512})$/;

/** An address SNS accepts for the `email` protocol: one `@`, no spaces, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Default days a log file of the audit trail is locked and kept. */
export const DEFAULT_AUDIT_LOG_DAYS = 365;

const ROLE_EXAMPLE = "arn:aws:iam::444455556666:role/gitops-dr-vault-admin";

/**
 * Parses `vaultAccountRoleArn` and `vaultRestorerRoleArns`. Present only in a protect stack that creates the
 * vault with a role to assume; recover and drill stacks reach such a vault through its policies and need no key.
 */
export function parseVaultAccount(
    r: ConfigReader,
    mode: Mode,
    vault: VaultSettings,
    credentials: CredentialSettings | undefined,
): VaultAccountSettings | undefined {
    if (mode !== "protect") {
        const why = "a recover or drill stack reaches a vault in another account through its bucket and key policies";
        r.forbidInMode("vaultAccountRoleArn", mode, why);
        r.forbidInMode("vaultRestorerRoleArns", mode, why);
        return undefined;
    }
    const roleArn = r.str("vaultAccountRoleArn");
    const restorers = r.list("vaultRestorerRoleArns", ["arn:aws:iam::777788889999:role/drill-eu-1-velero"]);
    if (roleArn === undefined) {
        if (restorers.length > 0) {
            r.problem(
                "vaultRestorerRoleArns",
                `is set but vaultAccountRoleArn is not: in the cluster's own account the restorers' IAM policies are enough, and no bucket policy grant is made. Fix: \`${setCmd("vaultAccountRoleArn", ROLE_EXAMPLE)}\` or \`${rmCmd("vaultRestorerRoleArns")}\`.`,
            );
        }
        return undefined;
    }
    if (!vault.create) {
        r.problem(
            "vaultAccountRoleArn",
            `${q(roleArn)}: only the stack that creates the vault (createBucket true) creates it in another account; a stack joining a vault reaches it through its policies. Fix: \`${rmCmd("vaultAccountRoleArn")}\`.`,
        );
        return undefined;
    }
    const m = ROLE_ARN.exec(roleArn);
    if (m === null) {
        r.problem(
            "vaultAccountRoleArn",
            `${q(roleArn)} is not an IAM role ARN. Fix: \`${setCmd("vaultAccountRoleArn", ROLE_EXAMPLE)}\`.`,
        );
        return undefined;
    }
    const [partition, accountId] = [m[1], m[2]];
    if (vault.kmsKeyArn !== undefined) {
        // The key's policy must grant the cluster's role; only a key this stack creates gets that policy.
        r.problem(
            "kmsKeyArn",
            `${q(vault.kmsKeyArn)}: with vaultAccountRoleArn the vault creates its own key, whose policy lets the cluster's Velero role use it. Fix: \`${rmCmd("kmsKeyArn")}\`.`,
        );
    }
    if (credentials?.mode === "staticKeys") {
        // The bucket and key policies must name Velero's principal; the key pair's IAM user is not known here.
        r.problem(
            "vaultAccountRoleArn",
            `${q(roleArn)} needs Velero to run as a role this stack creates and the vault's policies can name, but credentialsMode is staticKeys: a vault in its own account is not available yet to clusters outside AWS (k3s), whose Velero runs as an IAM user. Fix: \`${rmCmd("vaultAccountRoleArn")}\` (the vault in this account, its keys still guarded by breakGlassPrincipalArns), or on EKS \`${setCmd("credentialsMode", "irsa")}\`.`,
        );
    } else if (credentials?.mode === "irsa" && credentials.oidcProviderArn.split(":")[4] === accountId) {
        r.problem(
            "vaultAccountRoleArn",
            `${q(roleArn)} is in ${accountId}, the cluster's own account (oidcProviderArn's): an administrator there could still disable the key or change the bucket. Fix: a role in a dedicated backup account, \`${setCmd("vaultAccountRoleArn", ROLE_EXAMPLE)}\`.`,
        );
    }
    // KMS refuses a key policy that would lock out its caller (the lockout safety check), and the key's
    // administration cannot be done from another account: the role creating the key must be a break-glass
    // principal, and every break-glass principal must be of the vault's account.
    const foreign = vault.breakGlassPrincipalArns.filter((arn) => arn.split(":")[4] !== accountId);
    if (foreign.length > 0) {
        r.problem(
            "breakGlassPrincipalArns",
            `${q(foreign[0])} is not in the vault's account ${accountId}: a key's administration cannot be done from another account. Fix: \`${setListCmd("breakGlassPrincipalArns", [roleArn])}\`.`,
        );
    } else if (vault.breakGlassPrincipalArns.length > 0 && !vault.breakGlassPrincipalArns.includes(roleArn)) {
        r.problem(
            "breakGlassPrincipalArns",
            `does not list vaultAccountRoleArn ${q(roleArn)}, which creates the key: KMS refuses a key policy that locks out its creator. Fix: \`${setListCmd("breakGlassPrincipalArns", [roleArn])}\`.`,
        );
    }
    for (const arn of restorers) {
        const rm = ROLE_ARN.exec(arn);
        if (rm === null || rm[1] !== partition) {
            r.problem(
                "vaultRestorerRoleArns",
                `entry ${q(arn)} is not an IAM role ARN in the ${partition} partition. Fix: \`${setListCmd("vaultRestorerRoleArns", [`arn:${partition}:iam::777788889999:role/drill-eu-1-velero`])}\`.`,
            );
        } else if (rm[2] === accountId) {
            r.problem(
                "vaultRestorerRoleArns",
                `entry ${q(arn)} is in the vault's own account ${accountId}; a restorer belongs to a cluster's account. Fix: the Velero role of the recover or drill cluster's account.`,
            );
        }
    }
    return { roleArn, accountId, partition, restorerRoleArns: [...new Set(restorers)] };
}

/** Parses the audit keys. Present only in a protect stack that creates the vault. */
export function parseAudit(r: ConfigReader, mode: Mode, vault: VaultSettings): AuditSettings | undefined {
    const keys = ["auditTrail", "alertEmails", "auditBucketName", "auditLogDays"] as const;
    if (mode !== "protect") {
        for (const key of keys) {
            r.forbidInMode(key, mode, "the vault's audit trail and alarms belong to the protect stack that creates it");
        }
        return undefined;
    }
    if (!vault.create) {
        for (const key of keys) {
            if (r.isSet(key)) {
                r.problem(
                    key,
                    `${q(r.explicit(key)!)}: only the stack that creates the vault (createBucket true) audits it. Fix: \`${rmCmd(key)}\`.`,
                );
            }
        }
        return undefined;
    }
    const trail = r.bool("auditTrail", true);

    const alertEmails = r.list("alertEmails", ["backup-alarms@example.com"]);
    for (const email of alertEmails) {
        if (!EMAIL.test(email)) {
            r.problem(
                "alertEmails",
                `entry ${q(email)} is not an e-mail address. Fix: \`${setListCmd("alertEmails", ["backup-alarms@example.com"])}\`.`,
            );
        }
    }
    const duplicates = alertEmails.filter((e, i) => alertEmails.indexOf(e) !== i);
    if (duplicates.length > 0) {
        r.problem("alertEmails", `names ${q(duplicates[0])} twice. Fix: keep one entry per address.`);
    }

    const explicitName = r.str("auditBucketName");
    const logBucketName = explicitName ?? `${vault.bucketName}-audit`;
    const logDays = r.int("auditLogDays", 1, 3650, DEFAULT_AUDIT_LOG_DAYS) ?? DEFAULT_AUDIT_LOG_DAYS;
    if (!trail) {
        r.unused("auditBucketName", "auditTrail is false, so no log bucket is made");
        r.unused("auditLogDays", "auditTrail is false, so no log bucket is made");
    } else if (explicitName === undefined && !isValidBucketName(vault.bucketName)) {
        // bucketName's own problem is reported; its default log bucket name adds nothing to fix.
    } else if (!isValidBucketName(logBucketName)) {
        r.problem(
            "auditBucketName",
            `${q(logBucketName)} is not a valid S3 bucket name (at most 63 characters; the default is <bucketName>-audit). Fix: \`${setCmd("auditBucketName", "acme-velero-vault-audit")}\`.`,
        );
    } else if (logBucketName === vault.bucketName || logBucketName === vault.replica?.bucketName) {
        r.problem(
            "auditBucketName",
            `${q(logBucketName)} is a vault bucket; the trail needs a bucket of its own. Fix: \`${setCmd("auditBucketName", `${vault.bucketName}-audit`)}\`.`,
        );
    }
    return { trail, alertEmails, logBucketName, logDays };
}
