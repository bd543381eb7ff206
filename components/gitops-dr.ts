/**
 * The whole program for one stack, wired from the validated configuration: providers, the vault (created or
 * found), Velero's IAM, and Velero.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "./config";
import { BackupVault } from "./vault";
import { Velero, serverServiceAccountName } from "./velero";
import { VeleroIam } from "./velero-iam";

/** Where the vault is, however this stack learnt it. */
export interface VaultLocation {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;
    /** Prefix restored from (recover, drill). */
    readonly sourcePrefix?: pulumi.Output<string>;
}

/** The outputs a protect stack publishes, read by recover and drill stacks through `sourceStack`. */
export const SOURCE_STACK_OUTPUTS = ["bucketName", "region", "kmsKeyArn", "prefix"] as const;

/** `arn:<partition>:s3:::<bucket>`, with the partition taken from the KMS key's ARN. */
export function bucketArnFor(bucketName: string, kmsKeyArn: string): string {
    const partition = kmsKeyArn.split(":")[1] ?? "aws";
    return `arn:${partition}:s3:::${bucketName}`;
}

export interface GitopsDrArgs {
    /** The validated stack configuration. */
    config: StackConfig;
}

/** Everything one stack deploys. */
export class GitopsDr extends pulumi.ComponentResource {
    public readonly vault: VaultLocation;
    /** The vault component, when this stack created the vault. */
    public readonly createdVault?: BackupVault;
    public readonly iam: VeleroIam;
    public readonly velero: Velero;

    constructor(name: string, args: GitopsDrArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:index:GitopsDr", name, {}, opts);
        const config = args.config;

        let source: pulumi.StackReference | undefined;
        if (config.source?.stack !== undefined) {
            source = new pulumi.StackReference(`${name}-source`, { name: config.source.stack }, { parent: this });
        }
        const fromSource = (key: (typeof SOURCE_STACK_OUTPUTS)[number], explicit: string | undefined): pulumi.Output<string> => {
            if (explicit !== undefined) {
                return pulumi.output(explicit);
            }
            if (source === undefined) {
                // parseConfig guarantees one of the two; reaching here is a bug, not a config problem.
                throw new Error(`GitopsDr ${name}: neither config nor a source stack gives ${key}`);
            }
            return source.requireOutput(key).apply((v) => String(v));
        };

        // IAM is global and every S3 and KMS resource names its region (@pulumi/aws 7), so this provider's region
        // only decides where calls without one go: the vault's.
        const region = fromSource("region", config.vault.region);
        const awsProvider = new aws.Provider(`${name}-aws`, { region }, { parent: this });
        const withAws: pulumi.ComponentResourceOptions = { parent: this, providers: { aws: awsProvider } };

        if (config.vault.create) {
            this.createdVault = new BackupVault(`${name}-vault`, {
                bucketName: config.vault.bucketName!,
                region: config.vault.region!,
                kmsKeyArn: config.vault.kmsKeyArn,
                lockMode: config.vault.lockMode,
                lockDays: config.vault.lockDays,
                noncurrentVersionExpirationDays: config.vault.noncurrentVersionExpirationDays,
                abortIncompleteMultipartUploadDays: config.vault.abortIncompleteMultipartUploadDays,
                transitions: config.vault.transitions,
                replica: config.vault.replica,
            }, withAws);
            this.vault = {
                bucketName: this.createdVault.bucketName,
                bucketArn: this.createdVault.bucketArn,
                region: this.createdVault.region,
                kmsKeyArn: this.createdVault.kmsKeyArn,
            };
        } else {
            // recover and drill never create a bucket; neither does a protect stack joining a shared vault.
            const bucketName = fromSource("bucketName", config.vault.bucketName);
            const kmsKeyArn = fromSource("kmsKeyArn", config.vault.kmsKeyArn);
            this.vault = {
                bucketName,
                bucketArn: pulumi.all([bucketName, kmsKeyArn]).apply(([b, k]) => bucketArnFor(b, k)),
                region,
                kmsKeyArn,
                sourcePrefix: config.mode === "protect" ? undefined : fromSource("prefix", config.source?.prefix),
            };
        }

        const writePrefix = config.prefix;
        const sourcePrefix = this.vault.sourcePrefix;
        if (config.mode === "recover" && sourcePrefix !== undefined && writePrefix !== undefined) {
            // Checked again here because sourceStack may supply the prefix that config could not compare.
            sourcePrefix.apply((p) => {
                if (p === writePrefix) {
                    throw new Error(`gitops-dr:prefix "${writePrefix}" is the source stack's prefix: the recovered cluster would write over the backups it restores from. Set gitops-dr:prefix to a new prefix.`);
                }
            });
        }

        const kubernetes = new k8s.Provider(`${name}-k8s`, {
            context: config.kubeContext === "" ? undefined : config.kubeContext,
            // A rebuilt cluster already holds what Velero restored; creating it again must adopt, not fail
            // with AlreadyExists (creates are client-side since @pulumi/kubernetes 4.29, DESIGN §6).
            upsertExistingObjects: config.mode !== "protect",
        }, { parent: this });

        const serviceAccount = serverServiceAccountName(config.velero.releaseName);
        this.iam = new VeleroIam(`${name}-velero-iam`, {
            mode: config.mode,
            clusterName: config.clusterName,
            credentials: config.credentials,
            bucketArn: this.vault.bucketArn,
            kmsKeyArn: this.vault.kmsKeyArn,
            writePrefix,
            sourcePrefix,
            volumeDataMode: config.velero.volumeDataMode,
            namespace: config.velero.namespace,
            serviceAccount,
        }, withAws);

        const credentials = config.credentials;
        this.velero = new Velero(`${name}-velero`, {
            mode: config.mode,
            releaseName: config.velero.releaseName,
            namespace: config.velero.namespace,
            volumeDataMode: config.velero.volumeDataMode,
            awsPluginVersion: config.velero.awsPluginVersion,
            bucketName: this.vault.bucketName,
            region: this.vault.region,
            kmsKeyArn: this.vault.kmsKeyArn,
            writePrefix,
            sourcePrefix,
            tiers: config.velero.tiers,
            excludedNamespaces: config.velero.excludedNamespaces,
            repoPassword: config.velero.repoPassword,
            credentials:
                credentials.mode === "irsa"
                    ? { mode: "irsa", roleArn: this.iam.roleArn! }
                    : credentials.mode === "podIdentity"
                      ? { mode: "podIdentity" }
                      : { mode: "staticKeys", accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
            prometheusOperator: config.monitoring.prometheusOperator,
            provider: kubernetes,
        }, { parent: this, dependsOn: [this.iam] });

        this.registerOutputs({});
    }
}
