/**
 * The break-glass card a protect stack exports as `breakGlass`: everything a recovery needs when this stack's
 * Pulumi state is gone too (the vault, its key, where and under which Schedule the backups are), and the exact
 * commands that make a recover stack from nothing. No secret is in it: the repository password, without which
 * no backup can be read, is kept beside the card, not on it (README "Where the state lives").
 */
import type { CredentialsMode } from "./config/types";

/** What a recover stack would otherwise read through `gitops-dr:sourceStack`. */
export interface BreakGlassVault {
    readonly bucketName: string;
    readonly region: string;
    readonly kmsKeyArn: string;
    /** Where this cluster's backups are in the bucket (becomes the recover stack's `sourcePrefix`). */
    readonly prefix: string;
    readonly clusterName: string;
    readonly dailyScheduleName: string;
    readonly credentialsScheduleName?: string;
    /** The vault's off-site replica (all three or none): what a recovery reads when the vault's region is down. */
    readonly replicaBucketName?: string;
    readonly replicaRegion?: string;
    readonly replicaKmsKeyArn?: string;
}

/** The card: the vault, and the commands of the no-state recovery, in order. */
export interface BreakGlass extends BreakGlassVault {
    readonly recoverCommands: readonly string[];
    /**
     * With a replica: the same recovery reading the replica instead of the vault (`sourceReplica`), for when the
     * vault's region is down (README, "When the vault's region is down").
     */
    readonly recoverFromReplicaCommands?: readonly string[];
}

/** Placeholders the operator fills in on the day: they belong to the new cluster, unknown today. */
export const BREAK_GLASS_PLACEHOLDERS = {
    stack: "<recover stack, e.g. recover>",
    clusterName: "<new cluster name>",
    kubeContext: "<kube context of the new cluster>",
    restoreId: "<today, e.g. 2026-12-31>",
    oidcProviderArn: "<OIDC provider ARN of the new cluster>",
    eksClusterName: "<new EKS cluster name>",
    clusterRegion: "<region of the new cluster>",
    accessKeyId: "<access key id>",
    secretAccessKey: "<secret access key>",
    repoPassword: "<the repository password, kept with this card>",
} as const;

const set = (key: string, value: string, secret = false): string =>
    `pulumi config set ${secret ? "--secret " : ""}gitops-dr:${key} ${/^[A-Za-z0-9_./:@=+-]+$/.test(value) ? value : `'${value}'`}`;

/**
 * The card for a protect stack. `git` and `credentialsMode` are this stack's, carried over because a recovery
 * rebuilds the same apps the same way, and so is `createAccessKey` (the recover stack then makes its own key);
 * the new cluster's own values are {@link BREAK_GLASS_PLACEHOLDERS}.
 */
export function breakGlassCard(
    vault: BreakGlassVault,
    git: { readonly url: string; readonly path: string; readonly revision: string },
    credentialsMode: CredentialsMode,
    createAccessKey = false,
): BreakGlass {
    const p = BREAK_GLASS_PLACEHOLDERS;
    const credentials =
        credentialsMode === "irsa"
            ? [set("credentialsMode", "irsa"), set("oidcProviderArn", p.oidcProviderArn)]
            : credentialsMode === "podIdentity"
              ? [
                    set("credentialsMode", "podIdentity"),
                    set("eksClusterName", p.eksClusterName),
                    set("clusterRegion", p.clusterRegion),
                ]
              : createAccessKey
                ? // The recover stack makes a user and key of its own: nothing to bring from the lost machine.
                  [set("credentialsMode", "staticKeys"), set("createAccessKey", "true")]
                : [
                      set("credentialsMode", "staticKeys"),
                      set("awsAccessKeyId", p.accessKeyId, true),
                      set("awsSecretAccessKey", p.secretAccessKey, true),
                  ];
    const recoverCommands = (replica: readonly string[]) => [
        `pulumi stack init ${p.stack}`,
        set("mode", "recover"),
        set("clusterName", p.clusterName),
        set("kubeContext", p.kubeContext),
        set("restoreId", p.restoreId),
        // What sourceStack would have read from this stack's state.
        set("bucketName", vault.bucketName),
        set("region", vault.region),
        set("kmsKeyArn", vault.kmsKeyArn),
        set("sourcePrefix", vault.prefix),
        set("sourceScheduleName", vault.dailyScheduleName),
        ...(vault.credentialsScheduleName !== undefined
            ? [set("sourceCredentialsScheduleName", vault.credentialsScheduleName)]
            : []),
        ...replica,
        set("gitRepoUrl", git.url),
        set("gitPath", git.path),
        set("gitRevision", git.revision),
        ...credentials,
        set("repoPassword", p.repoPassword, true),
        "pulumi up",
    ];
    const { replicaBucketName, replicaRegion, replicaKmsKeyArn } = vault;
    return {
        ...vault,
        recoverCommands: recoverCommands([]),
        ...(replicaBucketName !== undefined && replicaRegion !== undefined && replicaKmsKeyArn !== undefined
            ? {
                  recoverFromReplicaCommands: recoverCommands([
                      // bucketName, region and kmsKeyArn above stay the vault's: the new cluster's own backups go there.
                      set("sourceReplica", "true"),
                      set("sourceReplicaBucketName", replicaBucketName),
                      set("sourceReplicaRegion", replicaRegion),
                      set("sourceReplicaKmsKeyArn", replicaKmsKeyArn),
                  ]),
              }
            : {}),
    };
}
