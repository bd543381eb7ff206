/**
 * gitops-dr: one program for every stack. The configuration is read and validated first, together with the
 * source stack's outputs (recover, drill), so that a problem in either stops the run before any resource is
 * registered; then the components; then the outputs of this stack's mode (and only those, so that no run
 * warns about an undefined output).
 */
import * as pulumi from "@pulumi/pulumi";

import { breakGlassCard } from "./components/break-glass";
import { loadConfig } from "./components/config";
import { GitopsDr } from "./components/gitops-dr";

export = async (): Promise<Record<string, unknown>> => {
    const startedAt = new Date().toISOString();
    const config = await loadConfig();
    const dr = new GitopsDr(`${pulumi.getProject()}-${pulumi.getStack()}`, { config, startedAt });

    const outputs: Record<string, unknown> = {
        mode: config.mode,
        clusterName: config.clusterName,
        // The vault. A protect stack's bucketName, region, kmsKeyArn, prefix, clusterName and dailyScheduleName
        // (and its replica's, below) are what recover and drill stacks read through gitops-dr:sourceStack.
        bucketName: dr.vault.bucketName,
        bucketArn: dr.vault.bucketArn,
        region: dr.vault.region,
        kmsKeyArn: dr.vault.kmsKeyArn,
        veleroPolicyArns: dr.iam.policyArns,
        veleroNamespace: dr.velero.namespace,
        veleroScheduleNames: dr.velero.scheduleNames,
    };
    if (dr.iam.roleArn !== undefined) {
        outputs.veleroRoleArn = dr.iam.roleArn;
    }
    if (dr.iam.user !== undefined) {
        // What rotating the key, or deleting a lost machine's, needs (README "Homelab (k3s)").
        outputs.veleroUserName = dr.iam.user.name;
        outputs.veleroAccessKeyId = dr.iam.user.accessKeyId;
    }
    if (config.prefix !== undefined) {
        outputs.prefix = config.prefix;
    }
    const daily = config.velero.tiers.find((t) => t.key === "daily");
    if (daily !== undefined) {
        outputs.dailyScheduleName = daily.name;
    }
    if (config.velero.credentialsTier !== undefined) {
        outputs.credentialsScheduleName = config.velero.credentialsTier.name;
    }
    if (config.mode === "protect" && config.prefix !== undefined && daily !== undefined) {
        // What a recovery needs when this stack's state is gone too (README "Where the state lives"); no secret.
        const repository = config.argoCd.repository;
        const credentialsSchedule = config.velero.credentialsTier?.name;
        const replica = dr.createdVault?.replica;
        outputs.breakGlass = pulumi
            .all([dr.vault.bucketName, dr.vault.region, dr.vault.kmsKeyArn, replica?.kmsKeyArn])
            .apply(([bucketName, region, kmsKeyArn, replicaKmsKeyArn]) =>
                breakGlassCard(
                    {
                        bucketName,
                        region,
                        kmsKeyArn,
                        ...(config.vault.replica !== undefined && replicaKmsKeyArn !== undefined
                            ? {
                                  replicaBucketName: config.vault.replica.bucketName,
                                  replicaRegion: config.vault.replica.region,
                                  replicaKmsKeyArn,
                              }
                            : {}),
                        prefix: config.prefix!,
                        clusterName: config.clusterName,
                        dailyScheduleName: daily.name,
                        ...(credentialsSchedule !== undefined ? { credentialsScheduleName: credentialsSchedule } : {}),
                    },
                    repository,
                    config.credentials.mode,
                    config.credentials.mode === "staticKeys" && config.credentials.keys === "create",
                ),
            );
    }
    if (dr.createdVault?.replica !== undefined) {
        outputs.replica = dr.createdVault.replica;
        // Flat, as recover and drill stacks read them through sourceStack with gitops-dr:sourceReplica.
        outputs.replicaBucketName = dr.createdVault.replica.bucketName;
        outputs.replicaRegion = dr.createdVault.replica.region;
        outputs.replicaKmsKeyArn = dr.createdVault.replica.kmsKeyArn;
    }
    if (dr.audit !== undefined) {
        outputs.alarmTopicArn = dr.audit.topicArn;
        if (dr.audit.replicaTopicArn !== undefined) {
            outputs.replicaAlarmTopicArn = dr.audit.replicaTopicArn;
        }
        if (dr.audit.trailArn !== undefined) {
            outputs.auditTrailArn = dr.audit.trailArn;
        }
    }
    if (config.source !== undefined) {
        outputs.sourcePrefix = config.source.prefix;
        if (config.source.replica !== undefined) {
            // What this restore read instead of the vault: a drill from the replica says so in its outputs.
            outputs.sourceReplica = config.source.replica;
        }
    }
    outputs.argoCdNamespace = dr.argoCd.namespace;
    outputs.argoCdRootApp = dr.argoCd.rootAppName;
    if (dr.argoCd.firstInstallApps.length > 0) {
        outputs.argoCdFirstInstallApps = dr.argoCd.firstInstallApps;
        outputs.argoCdSeedApplications = dr.argoCd.seedApplicationNames;
    }
    if (dr.restore !== undefined) {
        outputs.restore = dr.restore.outcome;
        outputs.restoredBackupStartTimestamp = dr.restore.backupStartTimestamp;
    }
    if (dr.credentialsRestore !== undefined) {
        outputs.credentialsRestore = dr.credentialsRestore.outcome;
    }
    if (dr.drillReport !== undefined) {
        outputs.drillReport = dr.drillReport;
    }
    return outputs;
};
