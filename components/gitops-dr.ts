/**
 * The whole program for one stack, wired from the validated configuration: providers, the vault (created or
 * found), Velero's IAM, Velero, and in recover and drill the restore, in the order a rebuild needs:
 *
 *   Velero release -> `source` location Available and synced -> Restore ended and checked -> Argo CD's root
 *   Application (and, in recover, the cluster's own Schedules).
 *
 * Every arrow is a resource dependency carried by an input, so a failed step stops everything after it.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { StackConfig } from "./config";
import { ArgoCd, RepositoryCredentials } from "./argocd";
import { VaultAudit } from "./audit";
import { DrillIsolation, DrillReport, DrillVerification, SYSTEM_NAMESPACES, drillReport } from "./drill";
import { VeleroRestore } from "./restore";
import { BackupCheck, BackupVerification } from "./verify";
import { BackupVault } from "./vault";
import { Velero, VeleroSchedules, serverServiceAccountName, storagePreflight } from "./velero";
import { VeleroIam } from "./velero-iam";
import { dnsLabelOf } from "./names";
import { VaultGrant, partitionOfRegion, veleroRoleName } from "./vault-access";

/** Where the vault is, however this stack learnt it. */
export interface VaultLocation {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly region: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;
}

/** `arn:<partition>:s3:::<bucket>`, with the partition taken from the KMS key's ARN. */
export function bucketArnFor(bucketName: string, kmsKeyArn: string): string {
    const partition = kmsKeyArn.split(":")[1] ?? "aws";
    return `arn:${partition}:s3:::${bucketName}`;
}

/** The Restore's name: the cluster and the recovery or drill id, so every drill gets a new one. */
export function restoreName(clusterName: string, restoreId: string): string {
    return `${clusterName}-${restoreId}`;
}

export interface GitopsDrArgs {
    /** The validated stack configuration. */
    config: StackConfig;
    /** When this update started (ISO 8601), for the drill's durations. Defaults to now. */
    startedAt?: string;
}

/** Everything one stack deploys. */
export class GitopsDr extends pulumi.ComponentResource {
    public readonly vault: VaultLocation;
    /** The vault component, when this stack created the vault. */
    public readonly createdVault?: BackupVault;
    /** The vault's audit trail and alarms, when this stack created the vault. */
    public readonly audit?: VaultAudit;
    public readonly iam: VeleroIam;
    public readonly velero: Velero;
    /** recover, drill: the restore and its checked outcome. */
    public readonly restore?: VeleroRestore;
    /** recover, drill: the restore of the source's sealing keys and Argo CD credentials. */
    public readonly credentialsRestore?: VeleroRestore;
    /** The backup Schedules (none in a drill). */
    public readonly schedules: k8s.apiextensions.CustomResource[];
    /** What the root Application waits for: the restore's checked outcome in recover and drill. */
    public readonly syncGate?: pulumi.Output<string>;
    public readonly argoCd: ArgoCd;
    /** protect: the weekly verification of the backups (unless switched off). */
    public readonly backupVerification?: BackupVerification;
    public readonly backupCheck?: BackupCheck;
    /** drill: what keeps it from acting on production (NetworkPolicies, admission policies). */
    public readonly isolation?: DrillIsolation;
    /** drill: the verification Job. */
    public readonly verification?: DrillVerification;
    /** drill: what it verified and how long it took. */
    public readonly drillReport?: pulumi.Output<DrillReport>;

    constructor(name: string, args: GitopsDrArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:index:GitopsDr", name, {}, opts);
        const config = args.config;

        // IAM is global and every S3 and KMS resource names its region (@pulumi/aws 7), so this provider's region
        // only decides where calls without one go (STS's regional endpoint): the vault's, or the replica's when the
        // stack reads the replica because the vault's region is down.
        const sourceReplica = config.source?.replica;
        const awsProvider = new aws.Provider(
            `${name}-aws`,
            { region: (sourceReplica?.region ?? config.vault.region) as aws.Region },
            { parent: this },
        );
        const withAws: pulumi.ComponentResourceOptions = { parent: this, providers: { aws: awsProvider } };

        // With vaultAccountRoleArn the vault and its audit are created in the vault's account, through a provider
        // assuming that role; Velero's IAM stays in the cluster's account (awsProvider).
        const vaultAccount = config.vaultAccount;
        const vaultProvider =
            vaultAccount === undefined
                ? awsProvider
                : new aws.Provider(
                      `${name}-aws-vault`,
                      {
                          region: config.vault.region as aws.Region,
                          assumeRoles: [{ roleArn: vaultAccount.roleArn, sessionName: "gitops-dr" }],
                      },
                      { parent: this },
                  );
        const inVaultAccount: pulumi.ComponentResourceOptions = { parent: this, providers: { aws: vaultProvider } };

        if (config.vault.create) {
            this.createdVault = new BackupVault(
                `${name}-vault`,
                {
                    bucketName: config.vault.bucketName,
                    region: config.vault.region,
                    kmsKeyArn: config.vault.kmsKeyArn,
                    lockMode: config.vault.lockMode,
                    lockDays: config.vault.lockDays,
                    noncurrentVersionExpirationDays: config.vault.noncurrentVersionExpirationDays,
                    abortIncompleteMultipartUploadDays: config.vault.abortIncompleteMultipartUploadDays,
                    transitions: config.vault.transitions,
                    replica: config.vault.replica,
                    breakGlassPrincipalArns: config.vault.breakGlassPrincipalArns,
                    crossAccount:
                        vaultAccount === undefined
                            ? undefined
                            : {
                                  accountId: vaultAccount.accountId,
                                  partition: vaultAccount.partition,
                                  grants: vaultGrants(config, awsProvider, this),
                              },
                },
                inVaultAccount,
            );
            this.vault = {
                bucketName: this.createdVault.bucketName,
                bucketArn: this.createdVault.bucketArn,
                region: this.createdVault.region,
                kmsKeyArn: this.createdVault.kmsKeyArn,
            };
        } else {
            // recover and drill never create a bucket; neither does a protect stack joining a shared vault. Every
            // value is known: config and the source stack's outputs were resolved before any resource.
            const kmsKeyArn = config.vault.kmsKeyArn!;
            this.vault = {
                bucketName: pulumi.output(config.vault.bucketName),
                bucketArn: pulumi.output(bucketArnFor(config.vault.bucketName, kmsKeyArn)),
                region: pulumi.output(config.vault.region),
                kmsKeyArn: pulumi.output(kmsKeyArn),
            };
        }
        if (this.createdVault !== undefined && config.audit !== undefined) {
            const audit = config.audit;
            const replica = this.createdVault.replica;
            this.audit = new VaultAudit(
                `${name}-audit`,
                {
                    region: config.vault.region,
                    accountId:
                        vaultAccount?.accountId ??
                        aws.getCallerIdentityOutput({}, { parent: this, provider: awsProvider }).accountId,
                    partition: vaultAccount?.partition ?? partitionOfRegion(config.vault.region),
                    bucketNames: [
                        config.vault.bucketName,
                        ...(config.vault.replica === undefined ? [] : [config.vault.replica.bucketName]),
                    ],
                    keyArns: [this.createdVault.kmsKeyArn, ...(replica === undefined ? [] : [replica.kmsKeyArn])],
                    trail: audit.trail
                        ? {
                              logBucketName: audit.logBucketName,
                              logDays: audit.logDays,
                              lockMode: config.vault.lockMode,
                              withManagementEvents: vaultAccount !== undefined,
                          }
                        : undefined,
                    alertEmails: audit.alertEmails,
                    replicaRegion: config.vault.replica?.region,
                },
                inVaultAccount,
            );
        }
        const sourcePrefix = config.source?.prefix;

        const kubernetes = new k8s.Provider(
            `${name}-k8s`,
            {
                context: config.kubeContext === "" ? undefined : config.kubeContext,
                // A rebuilt cluster may already hold objects this program creates (a re-run after an interrupted
                // update; namespaces Velero created bare for restored claims): creating them again must adopt, not fail
                // with AlreadyExists (client-side creates since @pulumi/kubernetes 4.29, DESIGN §6). With it, a
                // renamed logical resource upserts the same object and then deletes it (pulumi-kubernetes #2926):
                // renames need aliases (tests/urns.test.ts pins the URNs).
                upsertExistingObjects: config.mode !== "protect",
            },
            { parent: this },
        );

        const serviceAccount = serverServiceAccountName(config.velero.releaseName);
        this.iam = new VeleroIam(
            `${name}-velero-iam`,
            {
                mode: config.mode,
                clusterName: config.clusterName,
                credentials: config.credentials,
                bucketArn: this.vault.bucketArn,
                kmsKeyArn: this.vault.kmsKeyArn,
                writePrefix: config.prefix,
                sourcePrefix,
                source:
                    sourceReplica === undefined
                        ? undefined
                        : {
                              bucketArn: bucketArnFor(sourceReplica.bucketName, sourceReplica.kmsKeyArn),
                              kmsKeyArn: sourceReplica.kmsKeyArn,
                          },
                volumeDataMode: config.velero.volumeDataMode,
                namespace: config.velero.namespace,
                serviceAccount,
            },
            withAws,
        );

        const credentials = config.credentials;
        this.velero = new Velero(
            `${name}-velero`,
            {
                mode: config.mode,
                releaseName: config.velero.releaseName,
                namespace: config.velero.namespace,
                volumeDataMode: config.velero.volumeDataMode,
                awsPluginVersion: config.velero.awsPluginVersion,
                plugins: config.velero.plugins,
                bucketName: this.vault.bucketName,
                region: this.vault.region,
                kmsKeyArn: this.vault.kmsKeyArn,
                writePrefix: config.prefix,
                sourcePrefix,
                sourceStorage: sourceReplica,
                tiers: config.velero.tiers,
                credentialsScheduleName: config.velero.credentialsTier?.name,
                excludedNamespaces: config.velero.excludedNamespaces,
                argoCdNamespace: config.argoCd.namespace,
                repoPassword: config.velero.repoPassword,
                credentials:
                    credentials.mode === "irsa"
                        ? { mode: "irsa", roleArn: this.iam.roleArn! }
                        : credentials.mode === "podIdentity"
                          ? { mode: "podIdentity" }
                          : {
                                mode: "staticKeys",
                                accessKeyId: this.iam.staticKeys!.accessKeyId,
                                secretAccessKey: this.iam.staticKeys!.secretAccessKey,
                            },
                prometheusOperator: config.monitoring.prometheusOperator,
                monitoringLabels: config.monitoring.labels,
                dataMoverNodeLabels: config.velero.dataMoverNodeLabels,
                dataPath: config.dataPath,
                consistentBackups: config.velero.consistentBackups,
                fileSystemBackupVolumeTypes: config.velero.fileSystemBackupVolumeTypes,
                volumeSnapshotClassDrivers: config.velero.volumeSnapshotClassDrivers,
                syncTimeoutMinutes: config.restore?.backupCheckTimeoutMinutes,
                // The role's policies are attached before Velero starts, and detached only after everything that
                // needs Velero (a Restore's finalizer) is gone.
                after: [this.iam],
                chartSource: config.mirrors.veleroChart,
                imageRegistry: config.mirrors.imageRegistry,
                userValues: config.velero.userValues,
                provider: kubernetes,
            },
            { parent: this },
        );

        if (config.restore !== undefined && config.source !== undefined) {
            this.restore = new VeleroRestore(
                `${name}-restore`,
                {
                    restoreName: restoreName(config.clusterName, config.restore.id),
                    namespace: config.velero.namespace,
                    settings: config.restore,
                    sourceScheduleName: config.source.scheduleName,
                    parallelFilesDownload: config.dataPath.parallelFilesDownload,
                    syncBarrier: this.velero.sourceLocation!,
                    restorePrefix: `${config.clusterName}-`,
                    // A drill must never bind a volume to the source's live storage; a recovery re-attaches it.
                    quarantineRetainedVolumes: config.mode === "drill",
                    fromReplica: sourceReplica !== undefined,
                    imageRegistry: config.mirrors.imageRegistry,
                    provider: kubernetes,
                },
                { parent: this },
            );
            this.syncGate = this.restore.outcome.restoreName;
            if (config.source.credentialsScheduleName !== undefined) {
                // Sealed Secrets' keys and Argo CD's credentials, before the root Application syncs (Velero runs
                // one restore at a time, so this one waits in its queue while the data restore runs).
                this.credentialsRestore = new VeleroRestore(
                    `${name}-credentials-restore`,
                    {
                        kind: "credentials",
                        restoreName: dnsLabelOf([config.clusterName, config.restore.id, "credentials"]),
                        namespace: config.velero.namespace,
                        settings: config.restore,
                        sourceScheduleName: config.source.credentialsScheduleName,
                        syncBarrier: this.velero.sourceLocation!,
                        restorePrefix: `${config.clusterName}-`,
                        // A drill syncs prod's git: prod's cluster credentials would let it deploy to prod's clusters.
                        drillCredentials: config.mode === "drill",
                        fromReplica: sourceReplica !== undefined,
                        imageRegistry: config.mirrors.imageRegistry,
                        warningsHint:
                            "A credential that exists already was kept (existingResourcePolicy none): one the chart or this program created is never backed up, so another install made it. ",
                        provider: kubernetes,
                    },
                    { parent: this },
                );
                this.syncGate = pulumi
                    .all([this.restore.outcome, this.credentialsRestore.outcome])
                    .apply(([data]) => data.restoreName);
            }
        }
        // protect: the StorageClasses are checked first, so that no backup leaves a claim silently empty.
        const preflight =
            config.storagePreflight === undefined || config.velero.tiers.length === 0
                ? undefined
                : storagePreflight(
                      `${name}-storage-preflight`,
                      {
                          namespace: this.velero.namespace,
                          settings: config.storagePreflight,
                          fileSystemBackupVolumeTypes: config.velero.fileSystemBackupVolumeTypes,
                          volumeDataMode: config.velero.volumeDataMode,
                          snapshotClassDrivers: config.velero.volumeSnapshotClassDrivers,
                          imageRegistry: config.mirrors.imageRegistry,
                          provider: kubernetes,
                      },
                      { parent: this },
                  );
        // protect: the Schedules follow the release and the preflight. recover: they wait for the restore's checked end.
        this.schedules =
            config.velero.tiers.length === 0
                ? []
                : new VeleroSchedules(
                      `${name}-velero`,
                      {
                          velero: this.velero,
                          gate: this.syncGate,
                          credentials: config.velero.credentialsTier,
                          after: preflight === undefined ? [] : [preflight.job],
                          provider: kubernetes,
                      },
                      { parent: this },
                  ).schedules;

        if (config.mode === "protect" && config.verify !== undefined && this.schedules.length > 0) {
            // Proves the newest daily backup restorable, every period, into scratch namespaces.
            this.backupVerification = new BackupVerification(
                `${name}-backup-verify`,
                {
                    namespace: config.velero.namespace,
                    veleroNamespace: config.velero.namespace,
                    settings: config.verify,
                    scheduleName: config.velero.tiers.find((t) => t.key === "daily")!.name,
                    excludedNamespaces: [...SYSTEM_NAMESPACES, config.velero.namespace, config.argoCd.namespace],
                    timeoutMinutes: 180,
                    prometheusOperator: config.monitoring.prometheusOperator,
                    monitoringLabels: config.monitoring.labels,
                    imageRegistry: config.mirrors.imageRegistry,
                    after: [this.velero.release, ...this.schedules],
                    provider: kubernetes,
                },
                { parent: this },
            );
        }

        if (config.backupCheck !== undefined && this.schedules.length > 0) {
            // Every claim of each Schedule's newest backup has its data in the vault, checked within an hour.
            this.backupCheck = new BackupCheck(
                `${name}-backup-check`,
                {
                    namespace: config.velero.namespace,
                    settings: config.backupCheck,
                    snapshotsSuffice: config.velero.volumeDataMode === "nativeSnapshots",
                    scheduleNames: config.velero.tiers.map((t) => t.name),
                    prometheusOperator: config.monitoring.prometheusOperator,
                    monitoringLabels: config.monitoring.labels,
                    imageRegistry: config.mirrors.imageRegistry,
                    after: [this.velero.release, ...this.schedules],
                    provider: kubernetes,
                },
                { parent: this },
            );
        }

        if (config.mode === "protect" && config.restore !== undefined) {
            // One namespace (or a few) back into the running cluster, from its own backups: the same Restore,
            // check and report as a recovery, with existingResourcePolicy none so that nothing live is
            // overwritten. Removing restoreNamespaces deletes the Restore object (never what it restored).
            const daily = config.velero.tiers.find((t) => t.key === "daily")!;
            this.restore = new VeleroRestore(
                `${name}-namespace-restore`,
                {
                    restoreName: restoreName(config.clusterName, config.restore.id),
                    namespace: config.velero.namespace,
                    settings: config.restore,
                    sourceScheduleName: daily.name,
                    parallelFilesDownload: config.dataPath.parallelFilesDownload,
                    restorePrefix: `${config.clusterName}-`,
                    imageRegistry: config.mirrors.imageRegistry,
                    warningsHint:
                        "In a live namespace nothing that exists is overwritten (existingResourcePolicy none): each warning names an item that was kept as it is, e.g. a claim recreated empty or a Secret reissued since the backup. ",
                    // The cluster's Velero, and its Schedules' volume policy, are in place.
                    after: [this.velero.release],
                    provider: kubernetes,
                },
                { parent: this },
            );
        }

        if (config.drill !== undefined && this.restore !== undefined) {
            // Before Argo CD syncs prod's git: the restored namespaces isolated, CronJobs kept from running.
            this.isolation = new DrillIsolation(
                `${name}-isolation`,
                {
                    veleroNamespace: config.velero.namespace,
                    argoCdNamespace: config.argoCd.namespace,
                    restoreName: this.restore.outcome.restoreName,
                    egressAllow: config.drill.egressAllow,
                    timeoutMinutes: config.restore!.backupCheckTimeoutMinutes,
                    imageRegistry: config.mirrors.imageRegistry,
                    provider: kubernetes,
                },
                { parent: this },
            );
            const gate = this.syncGate ?? this.restore.outcome.restoreName;
            this.syncGate = pulumi.all([gate, this.isolation.result]).apply(([restored]) => restored);
        }

        // The chart installs while the restore runs; only the root Application, which makes Argo CD sync the
        // apps, waits for the restore's checked end (it takes the gate as an input).
        const repo = config.argoCd.repository;
        let repoCredentials: RepositoryCredentials<pulumi.Input<string>> | undefined;
        if (repo.sshPrivateKey !== undefined) {
            repoCredentials = { sshPrivateKey: repo.sshPrivateKey };
        } else if (repo.username !== undefined && repo.password !== undefined) {
            repoCredentials = { username: repo.username, password: repo.password };
        }
        this.argoCd = new ArgoCd(
            `${name}-argocd`,
            {
                mode: config.mode,
                namespace: config.argoCd.namespace,
                releaseName: config.argoCd.releaseName,
                repoUrl: repo.url,
                path: repo.path,
                revision: repo.revision,
                repoCredentials,
                syncGate: this.syncGate,
                firstInstallApps: config.argoCd.newAppVolumes,
                chartSource: config.mirrors.argoCdChart,
                imageRegistry: config.mirrors.imageRegistry,
                userValues: config.argoCd.userValues,
                provider: kubernetes,
            },
            { parent: this },
        );

        if (config.drill !== undefined && this.restore !== undefined) {
            const restore = this.restore;
            this.verification = new DrillVerification(
                `${name}-verify`,
                {
                    namespace: config.velero.namespace,
                    argoCdNamespace: config.argoCd.namespace,
                    // Inputs from the root Application and the checked restore: the Job runs only after both.
                    rootAppName: this.argoCd.rootApplication.metadata.name,
                    restoreName: restore.outcome.restoreName,
                    checks: config.drill.checks,
                    timeoutMinutes: config.drill.verifyTimeoutMinutes,
                    imageRegistry: config.mirrors.imageRegistry,
                    provider: kubernetes,
                },
                { parent: this },
            );
            const startedAt = args.startedAt ?? new Date().toISOString();
            this.drillReport = pulumi
                .all([
                    restore.outcome,
                    restore.backupStartTimestamp,
                    this.verification.completedAt,
                    this.verification.steps,
                    this.isolation!.result,
                ])
                .apply(([outcome, backupStartTimestamp, verifiedAt, steps, isolation]) =>
                    drillReport({
                        outcome,
                        backupStartTimestamp,
                        updateStartedAt: startedAt,
                        verifiedAt,
                        steps,
                        isolation,
                    }),
                );
        }

        this.registerOutputs({
            bucketName: this.vault.bucketName,
            bucketArn: this.vault.bucketArn,
            region: this.vault.region,
            kmsKeyArn: this.vault.kmsKeyArn,
            veleroRoleArn: this.iam.roleArn,
            veleroPolicyArns: this.iam.policyArns,
            veleroNamespace: this.velero.namespace,
            scheduleNames: this.schedules.map((s) => s.metadata.name),
            restore: this.restore?.outcome,
            syncGate: this.syncGate,
            argoCdNamespace: this.argoCd.namespace,
            rootApplication: this.argoCd.rootAppName,
            drillReport: this.drillReport,
        });
    }
}

/**
 * What the vault's policies grant outside its account: this cluster's Velero role writes under its prefix, and
 * the listed recover and drill roles restore from it. The role's ARN is known before the role exists: it is named
 * from the cluster (components/velero-iam.ts) in the account the cluster's provider runs as.
 */
function vaultGrants(
    config: StackConfig,
    clusterProvider: aws.Provider,
    parent: pulumi.Resource,
): pulumi.Output<readonly VaultGrant[]> {
    const prefix = config.prefix!;
    const partition = config.vaultAccount!.partition;
    return aws
        .getCallerIdentityOutput({}, { parent, provider: clusterProvider })
        .accountId.apply((account): readonly VaultGrant[] => [
            {
                roleArn: `arn:${partition}:iam::${account}:role/${veleroRoleName(config.clusterName)}`,
                access: "writer",
                prefix,
            },
            ...config.vaultAccount!.restorerRoleArns.map((roleArn): VaultGrant => ({
                roleArn,
                access: "restorer",
                prefix,
            })),
        ]);
}
