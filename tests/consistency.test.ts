/**
 * Application-consistent backups and recovering one namespace into a live cluster (issue: consistent backups
 * and one-namespace recovery).
 */
import * as assert from "node:assert/strict";

import { VOLUME_POLICY_CONFIGMAP, volumePolicy } from "../components/velero";
import { ProgramError, ProgramRun, RegisteredResource, runProgram } from "../engine";
import type { ClusterScenario } from "../engine/cluster";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS, backupNamed, liveClaim } from "./fixtures";

const prod = (
    config: Record<string, string | boolean | string[] | null> = {},
    live?: Parameters<typeof runProgram>[0]["live"],
    cluster?: ClusterScenario,
) => runProgram({ stack: "prod", secrets: STACK_SECRETS, config, live, cluster });
/** The bucket holds the named backup (in the given phase) and the schedule's newest. */
const withBackup = (phase = "Completed"): ClusterScenario => ({
    backups: [
        backupNamed("prod-eu-1-daily-20261120020000", { phase }),
        backupNamed("prod-eu-1-daily-20261201020000", { startTimestamp: "2026-12-01T02:00:00Z" }),
    ],
});
const templateOf = (r: RegisteredResource) => (r.inputs.spec as { template: Record<string, unknown> }).template;
const specOf = (r: RegisteredResource) => r.inputs.spec as Record<string, unknown>;

describe("consistent backups", () => {
    it("by default the schedules include pods, so the apps' backup hooks run; file-system backup stays off", async () => {
        const run = await prod({ weeklyBackupTtl: "744h" });
        const data = run.ofType("kubernetes:velero.io/v1:Schedule").filter((s) => s !== run.schedule("credentials"));
        assert.equal(data.length, 2, "daily, weekly");
        for (const schedule of data) {
            const template = templateOf(schedule);
            assert.deepEqual(template.includedResources, [
                "persistentvolumes",
                "persistentvolumeclaims",
                "secrets",
                "serviceaccounts",
                "pods",
            ]);
            assert.equal(template.defaultVolumesToFsBackup, false);
            assert.deepEqual(template.resourcePolicy, { kind: "configmap", name: VOLUME_POLICY_CONFIGMAP });
        }
    });

    it("consistentBackups false, file-system backup off: PVs, PVCs, Secrets and their ServiceAccounts only", async () => {
        const run = await prod({ consistentBackups: false, fileSystemBackupVolumeTypes: [] });
        assert.deepEqual(templateOf(run.schedule()).includedResources, [
            "persistentvolumes",
            "persistentvolumeclaims",
            "secrets",
            "serviceaccounts",
        ]);
    });

    it("file-system backup off: every volume is snapshotted, whatever a pod's opt-in annotation says", async () => {
        const run = await prod({ fileSystemBackupVolumeTypes: [] });
        const policy = run.one("kubernetes:core/v1:ConfigMap", "gitops-dr-prod-velero-volume-policy");
        assert.deepEqual(policy.inputs.data, { "policy.yaml": volumePolicy() });
        assert.equal(
            volumePolicy([]),
            'version: v1\nvolumePolicies:\n  - conditions:\n      capacity: "0,"\n    action:\n      type: snapshot\n',
        );
        const schedule = run.schedule();
        assert.ok(schedule.dependencies.includes(policy.urn), "the policy exists before any backup names it");
    });

    it("every data Restore in every mode takes PVs, PVCs, Secrets and ServiceAccounts only, never pods", async () => {
        const runs: ProgramRun[] = [
            await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
            await runProgram({
                stack: "recover",
                config: RECOVER_CONFIG,
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
            await prod({ restoreNamespaces: ["shop"], restoreId: "shop-1" }),
        ];
        for (const run of runs) {
            const restore = run.restore();
            assert.deepEqual(specOf(restore).includedResources, [
                "persistentvolumes",
                "persistentvolumeclaims",
                "secrets",
                "serviceaccounts",
            ]);
        }
    });
});

describe("recover one namespace into a live cluster (protect)", () => {
    it("registers nothing of a restore when not asked", async () => {
        const run = await prod();
        assert.equal(run.ofType("kubernetes:velero.io/v1:Restore").length, 0);
        assert.equal(run.outputs.restore, undefined);
    });

    it("registers one Restore limited to those namespaces and kinds, from the cluster's own daily schedule, never overwriting", async () => {
        const run = await prod({
            restoreNamespaces: ["shop"],
            restoreId: "shop-1",
            restoreNamespaceMappings: ["shop=shop-restored"],
        });
        const restore = run.restore();
        assert.deepEqual((restore.inputs.metadata as { name: string }).name, "prod-eu-1-shop-1");
        assert.deepEqual(specOf(restore), {
            scheduleName: "prod-eu-1-daily",
            includedNamespaces: ["shop"],
            namespaceMapping: { shop: "shop-restored" },
            includedResources: ["persistentvolumes", "persistentvolumeclaims", "secrets", "serviceaccounts"],
            labelSelector: {
                matchExpressions: [
                    { key: "owner", operator: "NotIn", values: ["helm"] },
                    { key: "sealedsecrets.bitnami.com/sealed-secrets-key", operator: "DoesNotExist" },
                ],
            },
            restorePVs: true,
            existingResourcePolicy: "none",
            itemOperationTimeout: "240m",
            // Restored Secrets that Sealed Secrets owns are handed back to it (components/restore/modifiers.ts).
            resourceModifier: { kind: "configmap", name: "gitops-dr-restore-modifiers" },
            // A namespace's volumes move as fast as a recovery's (gitops-dr:restoreParallelFiles).
            uploaderConfig: { parallelFilesDownload: 8 },
        });
        // No second Velero, no extra location, no restorer role: the cluster's own Velero and writer role.
        assert.equal(run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "velero").length, 1);
        assert.equal(run.ofType("kubernetes:velero.io/v1:BackupStorageLocation").length, 0);
        assert.equal(run.ofType("aws:iam/policy:Policy").length, 1);
        assert.equal((run.outputs.restore as { phase: string }).phase, "Completed");
    });

    it("a named backup is checked in the cluster, once, before the Restore is created: no read on later runs", async () => {
        const named = {
            restoreNamespaces: ["shop"],
            restoreId: "shop-2",
            restoreBackupName: "prod-eu-1-daily-20261120020000",
        };
        const run = await prod(named, undefined, withBackup());
        const restore = run.restore();
        assert.equal(specOf(restore).backupName, "prod-eu-1-daily-20261120020000");
        const check = run.one("kubernetes:batch/v1:Job", "gitops-dr-prod-namespace-restore-check-job");
        assert.ok(run.dependsOn(restore, check));
        assert.deepEqual(run.reads, [], "nothing is read: a read would run on every later pulumi up");
        // A backup that expired and left the bucket stops only the restore that needs it.
        await assert.rejects(
            prod(named, undefined, { backups: [] }),
            /Backup prod-eu-1-daily-20261120020000 is not in the cluster: .*No Restore was created\./,
        );
    });

    it("a named backup that is PartiallyFailed stops the run before any Restore, unless accepted", async () => {
        const partial = withBackup("PartiallyFailed");
        const error = await prod(
            { restoreNamespaces: ["shop"], restoreId: "shop-3", restoreBackupName: "prod-eu-1-daily-20261120020000" },
            undefined,
            partial,
        ).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.match(
            error.message,
            /Backup prod-eu-1-daily-20261120020000 is PartiallyFailed\. .*acceptPartiallyFailedBackup true.*No Restore was created\./,
        );
        assert.equal(error.resources.filter((r) => r.type === "kubernetes:velero.io/v1:Restore").length, 0);
        const accepted = await prod(
            {
                restoreNamespaces: ["shop"],
                restoreId: "shop-3",
                restoreBackupName: "prod-eu-1-daily-20261120020000",
                acceptPartiallyFailedBackup: true,
            },
            undefined,
            partial,
        );
        assert.equal(accepted.ofType("kubernetes:velero.io/v1:Restore").length, 1);
    });

    it("a failed namespace restore fails the run with the restore's name and the command", async () => {
        await assert.rejects(
            prod(
                { restoreNamespaces: ["shop"], restoreId: "shop-4" },
                { "kubernetes:velero.io/v1:Restore": () => ({ status: { phase: "Failed", errors: 1 } }) },
            ),
            /Restore prod-eu-1-shop-4 .* ended Failed .*velero restore describe prod-eu-1-shop-4 --details/,
        );
    });
});

describe("VolumeSnapshotClass", () => {
    it("creates a labelled class per configured CSI driver, after the release; none by default", async () => {
        const none = await prod();
        assert.equal(none.ofType("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass").length, 0);
        const run = await prod({ volumeSnapshotClassDrivers: ["ebs.csi.aws.com"] });
        const cls = run.one("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass");
        assert.deepEqual(cls.inputs.metadata, {
            name: "gitops-dr-ebs.csi.aws.com",
            labels: { "velero.io/csi-volumesnapshot-class": "true" },
        });
        assert.equal(cls.inputs.driver, "ebs.csi.aws.com");
        assert.equal(cls.inputs.deletionPolicy, "Delete");
    });

    it("is ignored, with a warning, in a drill", async () => {
        const run = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            config: { volumeSnapshotClassDrivers: ["ebs.csi.aws.com"] },
        });
        assert.equal(run.ofType("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass").length, 0);
        assert.ok(
            run.warnings.some(
                (w) => w.includes("volumeSnapshotClassDrivers") && w.includes("a drill takes no backups"),
            ),
            run.warnings.join("\n"),
        );
    });
});

describe("a namespace restore that skipped existing items", () => {
    // The live namespace's claim was recreated empty (a StatefulSet scaled up before the restore) and its Secret
    // reissued: Velero keeps both (existingResourcePolicy none) and warns (velero pkg/restore/restore.go).
    const live: ClusterScenario = {
        objects: [
            liveClaim("shop", "data"),
            {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: "shop-db", namespace: "shop" },
                data: { value: "bmV3" },
            },
            {
                apiVersion: "storage.k8s.io/v1",
                kind: "StorageClass",
                metadata: { name: "gp3" },
                provisioner: "ebs.csi.aws.com",
            },
        ],
    };

    it("fails, naming each item that was kept instead of restored", async () => {
        await assert.rejects(
            prod({ restoreNamespaces: ["shop"], restoreId: "shop-5" }, undefined, live),
            /Restore prod-eu-1-shop-5 ended Completed with 2 warnings, so something was not restored: shop: could not restore, PersistentVolumeClaim "data" already exists.*shop: could not restore, Secret "shop-db" already exists.*In a live namespace nothing that exists is overwritten.*acceptRestoreWarnings true/,
        );
    });

    it("goes on when accepted, listing the warnings in the outputs", async () => {
        const accepted = await prod(
            { restoreNamespaces: ["shop"], restoreId: "shop-5", acceptRestoreWarnings: true },
            undefined,
            live,
        );
        const outcome = accepted.outputs.restore as { warnings: number; acceptedWarnings: string[] };
        assert.equal(outcome.warnings, 2);
        assert.equal(outcome.acceptedWarnings.length, 2);
        assert.ok(
            accepted.warnings.some((w) => w.includes("acceptRestoreWarnings")),
            accepted.warnings.join("\n"),
        );
    });
});

describe("namespace restore order", () => {
    it("the Restore waits for the cluster's Velero release", async () => {
        const run = await prod({ restoreNamespaces: ["shop"], restoreId: "shop-6" });
        const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero")!;
        assert.ok(run.dependsOn(run.restore(), release));
    });
});
