/**
 * The catalogue's keys of a vault in its own account and of its audit trail (components/config/audit.ts parses
 * them), spread into `CONFIG_KEYS` (keys.ts) where they belong in the README's inputs table.
 */
import type { ConfigKeySpec } from "./keys";

export const VAULT_ACCOUNT_KEYS = {
    vaultAccountRoleArn: {
        type: "string",
        group: "vault",
        modes: ["protect"],
        description:
            "protect with createBucket: ARN of a role in a dedicated backup account that the vault's AWS provider assumes. The vault (bucket, KMS key, replica, their policies, the replication role) and its audit trail are created there; Velero's role stays in the cluster's account and reaches the vault only through the bucket and key policies. Needs credentialsMode irsa or podIdentity. Unset: everything in the cluster's account.",
    },
    vaultRestorerRoleArns: {
        type: "array",
        group: "vault",
        modes: ["protect"],
        description:
            "protect with vaultAccountRoleArn: Velero roles of recover and drill clusters in other accounts (arn:aws:iam::<account>:role/<clusterName>-velero) that the bucket and key policies, the vault's and its replica's, let restore from this cluster's prefix, read-only as in a drill. The roles need not exist yet. Defaults to [].",
    },
} as const satisfies Record<string, ConfigKeySpec>;

export const AUDIT_KEYS = {
    auditTrail: {
        type: "boolean",
        group: "audit",
        modes: ["protect"],
        description:
            "protect with createBucket: a CloudTrail trail in the vault's account logging the vault's deletes, retention and legal-hold changes and configuration changes into a locked log bucket. false when an organisation trail already logs them (README, \"A vault in its own account\"); the alarms stay. Defaults to true.",
    },
    alertEmails: {
        type: "array",
        group: "audit",
        modes: ["protect"],
        description:
            "protect with createBucket: e-mail addresses subscribed to the vault's alarm topic (every delete of a version, retention or legal-hold change, configuration change of the bucket, key or trail, and every denied attempt). Each address must confirm AWS's e-mail once. Defaults to [].",
    },
    auditBucketName: {
        type: "string",
        group: "audit",
        modes: ["protect"],
        description: "protect with auditTrail: name of the trail's log bucket. Defaults to <bucketName>-audit.",
    },
    auditLogDays: {
        type: "integer",
        group: "audit",
        modes: ["protect"],
        description:
            "protect with auditTrail: days each log file is locked (in the vault's lockMode) and kept, 1-3650. Defaults to 365.",
    },
} as const satisfies Record<string, ConfigKeySpec>;
