/**
 * The restore order of recover and drill stacks, on the recorded graph: Velero release -> source location
 * synced (the barrier) -> Restore -> its checked end -> what may only start after it. And the failure path:
 * every terminal phase but Completed stops the update with the restore's name, phase, counts and the command.
 */
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { TERMINAL_RESTORE_PHASES, backupTimeFromName, checkRestore, restoreSpec } from "../components/restore";
import { ProgramError, ProgramRun, RegisteredResource, runProgram } from "../engine";
import { ClusterScenario, DATA_BYTES_PER_CLAIM } from "../engine/cluster";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS, backupNamed } from "./fixtures";

const drill = (extra: Parameters<typeof runProgram>[0] extends infer O ? Partial<O> : never = {}) =>
    runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES, ...extra });
const recover = (
    config: Record<string, string | boolean | number | string[] | null> = {},
    live?: Parameters<typeof runProgram>[0]["live"],
    cluster?: ClusterScenario,
) =>
    runProgram({
        stack: "recover",
        config: { ...RECOVER_CONFIG, ...config },
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        live,
        cluster,
    });
/** The bucket holds the named backup besides the schedule's newest. */
const NAMED: ClusterScenario = {
    backups: [
        backupNamed("prod-eu-1-daily-20261120020000"),
        backupNamed("prod-eu-1-daily-20261124020000", { startTimestamp: "2026-11-24T02:00:00Z" }),
    ],
};

const veleroRelease = (run: ProgramRun) =>
    run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero")!;
const restoreOf = (run: ProgramRun) => run.restore();
const metaOf = (r: RegisteredResource) =>
    r.inputs.metadata as { name: string; namespace: string; annotations: Record<string, string> };

describe("restore order", () => {
    let runs: Record<"recover" | "drill", ProgramRun>;
    before(async () => {
        runs = { recover: await recover(), drill: await drill() };
    });

    for (const mode of ["recover", "drill"] as const) {
        it(`${mode}: the Restore waits for the synced source location, which waits for the Velero release`, () => {
            const run = runs[mode];
            const restore = restoreOf(run);
            const barrier = run.one("kubernetes:velero.io/v1:BackupStorageLocation");
            assert.ok(restore.dependencies.includes(barrier.urn), "explicit dependency on the barrier");
            assert.ok(run.dependsOn(barrier, veleroRelease(run)));
            assert.ok(run.dependsOn(restore, veleroRelease(run)));
        });

        it(`${mode}: the Restore's create lasts until any terminal phase, longer than Velero's own timeouts`, () => {
            const restore = restoreOf(runs[mode]);
            assert.equal(
                metaOf(restore).annotations["pulumi.com/waitFor"],
                "jsonpath={.status[?@ == 'Completed' || @ == 'PartiallyFailed' || @ == 'Failed' || @ == 'FailedValidation']}",
            );
            assert.deepEqual(restore.customTimeouts, { create: "300m", update: "300m", delete: undefined });
            // Velero gives up on item operations first (4h), so Pulumi sees the end rather than its own timeout.
            assert.equal((restore.inputs.spec as Record<string, unknown>).itemOperationTimeout, "240m");
        });
    }

    for (const mode of ["recover", "drill"] as const) {
        it(`${mode}: Argo CD's release installs while the restore runs; only its root Application waits for the checked restore`, () => {
            const run = runs[mode];
            const restore = restoreOf(run);
            const argo = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "argo-cd")!;
            const root = run.one("kubernetes:argoproj.io/v1alpha1:Application", `gitops-dr-${mode}-argocd-root-app`);
            assert.ok(!run.dependsOn(argo, restore), "the Argo CD release is not after the Restore");
            assert.ok(
                (root.propertyDependencies.metadata ?? []).includes(restore.urn),
                "the root Application takes the checked restore as an input",
            );
            assert.ok(run.dependsOn(root, argo));
            assert.deepEqual(
                ((root.inputs.metadata as { finalizers?: string[] }).finalizers ?? []).filter((f) =>
                    f.includes("resources-finalizer"),
                ),
                [],
            );
        });
    }

    it("restores PVs, PVCs, Secrets and ServiceAccounts of the lost cluster's newest Completed daily backup, never overwriting", () => {
        assert.deepEqual(restoreOf(runs.drill).inputs.spec, {
            scheduleName: "prod-eu-1-daily",
            includedNamespaces: ["*"],
            includedResources: ["persistentvolumes", "persistentvolumeclaims", "secrets", "serviceaccounts"],
            includeClusterResources: true,
            labelSelector: {
                matchExpressions: [
                    { key: "owner", operator: "NotIn", values: ["helm"] },
                    { key: "sealedsecrets.bitnami.com/sealed-secrets-key", operator: "DoesNotExist" },
                ],
            },
            restorePVs: true,
            existingResourcePolicy: "none",
            itemOperationTimeout: "240m",
            // Every data restore hands Sealed Secrets' Secrets back to it; a drill also quarantines what it must
            // not restore as it is (components/restore/modifiers.ts).
            resourceModifier: { kind: "configmap", name: "gitops-dr-restore-modifiers" },
            // gitops-dr:restoreParallelFiles's default (components/config/keys.ts).
            uploaderConfig: { parallelFilesDownload: 8 },
        });
        assert.deepEqual((restoreOf(runs.recover).inputs.spec as { resourceModifier?: unknown }).resourceModifier, {
            kind: "configmap",
            name: "gitops-dr-restore-modifiers",
        });
    });

    it("recover: the restore cannot pick the new cluster's own backups (schedule names carry the cluster name)", () => {
        const run = runs.recover;
        const spec = restoreOf(run).inputs.spec as { scheduleName: string };
        const own = run.ofType("kubernetes:velero.io/v1:Schedule").map((s) => metaOf(s).name);
        assert.deepEqual(own.sort(), ["prod-eu-2-credentials", "prod-eu-2-daily"]);
        assert.equal(spec.scheduleName, "prod-eu-1-daily");
        assert.ok(!own.includes(spec.scheduleName));
    });

    it("recover: the cluster's own Schedules take an input from the restore's checked end", () => {
        const run = runs.recover;
        const restore = restoreOf(run);
        for (const schedule of run.ofType("kubernetes:velero.io/v1:Schedule")) {
            assert.ok(
                (schedule.propertyDependencies.metadata ?? []).includes(restore.urn),
                `${schedule.name} takes the gate through metadata`,
            );
            assert.equal(metaOf(schedule).annotations["gitops-dr.io/after-restore"], "prod-eu-2-2026-11-25");
        }
    });

    it("an exact backup name replaces the schedule; the Restore's name changes with the restore id", async () => {
        const run = await recover(
            { restoreBackupName: "prod-eu-1-daily-20261120020000", restoreId: "second-try" },
            undefined,
            NAMED,
        );
        const restore = restoreOf(run);
        const spec = restore.inputs.spec as Record<string, unknown>;
        assert.equal(spec.backupName, "prod-eu-1-daily-20261120020000");
        assert.equal(spec.scheduleName, undefined);
        assert.equal(metaOf(restore).name, "prod-eu-2-second-try");
        assert.notEqual(metaOf(restore).name, metaOf(restoreOf(runs.recover)).name);
    });

    it("two drills with different ids register different Restore names", async () => {
        const next = await drill({ config: { restoreId: "2027-11-24" } });
        assert.equal(metaOf(restoreOf(runs.drill)).name, "drill-eu-1-2026-11-25");
        assert.equal(metaOf(restoreOf(next)).name, "drill-eu-1-2027-11-24");
    });

    it("namespaces and StorageClass mappings from config: a filtered restore and Velero's change-storage-class ConfigMap before it", async () => {
        const run = await recover({ restoreNamespaces: ["shop", "billing"], storageClassMappings: ["gp2=gp3"] });
        const restore = restoreOf(run);
        assert.deepEqual((restore.inputs.spec as Record<string, unknown>).includedNamespaces, ["shop", "billing"]);
        // Only the restored claims' PVs, not every PV of the backup (includeClusterResources left unset).
        assert.equal((restore.inputs.spec as Record<string, unknown>).includeClusterResources, undefined);
        const mapping = run.one("kubernetes:core/v1:ConfigMap", "gitops-dr-recover-restore-storage-classes");
        assert.deepEqual(mapping.inputs.data, { gp2: "gp3" });
        assert.deepEqual((mapping.inputs.metadata as { labels: unknown }).labels, {
            "velero.io/plugin-config": "",
            "velero.io/change-storage-class": "RestoreItemAction",
        });
        assert.ok(restore.dependencies.includes(mapping.urn));
    });

    it("reports the restored backup, its phase and its age", async () => {
        const startedAt = Date.parse("2026-11-25T10:00:00Z");
        const run = await drill({ startedAt });
        const outcome = run.outputs.restore as Record<string, unknown>;
        assert.deepEqual(outcome, {
            restoreName: "drill-eu-1-2026-11-25",
            // Velero's name for the backup taken 8 hours before the run (the simulated cluster's newest).
            backupName: "prod-eu-1-daily-20261125020000",
            phase: "Completed",
            errors: 0,
            warnings: 0,
            // The default source's two claims and two Secrets; their PVs are provisioned by the data mover.
            itemsRestored: 6,
            startTimestamp: "2026-11-25T10:02:00Z",
            completionTimestamp: "2026-11-25T10:40:00Z",
            newerNotCompleted: [],
            removedClaims: [],
            quarantinedClaims: [],
            quarantinedVolumes: [],
            acceptedWarnings: [],
            retriedItems: [],
            // No claim of this backup was backed up through its pod.
            filledClaims: [],
            // One DataDownload per claim, over the restore's time, with the backup's sizes (1 and 2 GiB).
            dataMovement: {
                volumes: 2,
                completed: 2,
                failed: 0,
                totalBytes: 3 * DATA_BYTES_PER_CLAIM,
                bytesDone: 3 * DATA_BYTES_PER_CLAIM,
                startTimestamp: "2026-11-25T10:02:00Z",
                completionTimestamp: "2026-11-25T10:40:00Z",
            },
        });
        // From the backup's name: no read that a later `pulumi up` would fail on once the backup expired.
        assert.equal(run.outputs.restoredBackupStartTimestamp, "2026-11-25T02:00:00Z");
        assert.deepEqual(
            run.reads.filter((r) => r.type === "kubernetes:velero.io/v1:Backup"),
            [],
        );
        assert.equal(
            run.ofType("kubernetes:velero.io/v1:Backup").length,
            0,
            "a Backup is never created: that would start a backup",
        );
    });

    it("protect registers no Restore, no barrier and no wait", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        assert.equal(run.ofType("kubernetes:velero.io/v1:Restore").length, 0);
        assert.equal(run.ofType("kubernetes:velero.io/v1:BackupStorageLocation").length, 0);
        assert.ok(
            run.resources.every(
                (r) =>
                    !Object.values(
                        (r.inputs.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {},
                    ).some((v) => String(v).includes("status")),
            ),
        );
    });
});

describe("restore failure path", () => {
    const failing = (status: Record<string, unknown>) => ({ "kubernetes:velero.io/v1:Restore": () => ({ status }) });

    for (const phase of ["PartiallyFailed", "Failed", "FailedValidation"] as const) {
        it(`${phase} stops the update with the restore's name, phase, counts and the command, before anything that waits on it`, async () => {
            const error = await recover(
                {},
                failing({
                    phase,
                    errors: 3,
                    warnings: 1,
                    ...(phase === "FailedValidation"
                        ? { validationErrors: ["No completed backups found for schedule"] }
                        : {}),
                }),
            ).then(
                () => assert.fail("the update went on"),
                (e: unknown) => e as ProgramError,
            );
            assert.ok(error instanceof ProgramError);
            assert.match(
                error.message,
                new RegExp(
                    // Velero names the backup it took once it validated the Restore; a validation failure may not.
                    phase === "FailedValidation"
                        ? `Restore prod-eu-2-2026-11-25 of the newest Completed backup of schedule prod-eu-1-daily ended ${phase} \\(errors: 3, warnings: 1`
                        : `Restore prod-eu-2-2026-11-25 of backup prod-eu-1-daily-\\d{14} ended ${phase} \\(errors: 3, warnings: 1`,
                ),
            );
            assert.match(error.message, /velero restore describe prod-eu-2-2026-11-25 --details -n velero/);
            if (phase === "FailedValidation") {
                assert.match(error.message, /validation errors: No completed backups found for schedule/);
            }
            // The recovered cluster's own Schedules never start after a failed restore.
            assert.equal(error.resources.filter((r) => r.type === "kubernetes:velero.io/v1:Schedule").length, 0);
        });
    }

    it("a PartiallyFailed restore goes on only when accepted, loudly", async () => {
        const run = await recover(
            { acceptPartiallyFailedRestore: true },
            failing({ phase: "PartiallyFailed", errors: 2, warnings: 0 }),
        );
        assert.equal((run.outputs.restore as { phase: string }).phase, "PartiallyFailed");
        assert.equal(run.ofType("kubernetes:velero.io/v1:Schedule").length, 2, "daily and credentials");
        assert.ok(
            run.warnings.some((w) => w.includes("acceptPartiallyFailedRestore")),
            run.warnings.join("\n"),
        );
    });

    it("checkRestore: Completed passes, every other terminal phase throws, an accepted PartiallyFailed passes", () => {
        for (const phase of TERMINAL_RESTORE_PHASES) {
            const run = () => checkRestore("r", "velero", { backupName: "b" }, { phase }, false);
            if (phase === "Completed") {
                assert.equal(run().phase, "Completed");
            } else {
                assert.throws(run, new RegExp(`Restore r of backup b ended ${phase}`));
            }
        }
        assert.equal(
            checkRestore("r", "velero", { backupName: "b" }, { phase: "PartiallyFailed" }, true).phase,
            "PartiallyFailed",
        );
        assert.throws(() => checkRestore("r", "velero", {}, undefined, true), /ended with no phase/);
    });

    it("restoreSpec uses backupName or scheduleName, never both", () => {
        const base = {
            id: "x",
            acceptPartiallyFailedBackup: false,
            acceptPartiallyFailedRestore: false,
            acceptOlderBackup: false,
            acceptRestoreWarnings: false,
            namespaces: [],
            namespaceMappings: {},
            storageClassMappings: {},
            backupCheckTimeoutMinutes: 20,
            restoreTimeoutMinutes: 300,
        };
        assert.deepEqual(
            Object.keys(restoreSpec({ ...base, backupName: "b" }, { scheduleName: "s" })).filter((k) =>
                k.endsWith("Name"),
            ),
            ["backupName"],
        );
        assert.deepEqual(
            Object.keys(restoreSpec(base, { scheduleName: "s" })).filter((k) => k.endsWith("Name")),
            ["scheduleName"],
        );
    });
});

describe("restore: what a real run would trip on", () => {
    it("a changed restore spec replaces the Restore (Velero ignores an updated one), the old one deleted first", async () => {
        const run = await drill();
        const restore = restoreOf(run);
        assert.deepEqual(restore.replaceOnChanges, ["spec"]);
        assert.equal(restore.deleteBeforeReplace, true);
    });

    it("in a preview nothing is read and no check runs: the checks run once, in the update that creates the Restore", async () => {
        const preview = await runProgram({
            stack: "recover",
            config: { ...RECOVER_CONFIG, restoreBackupName: "prod-eu-1-daily-20261120020000" },
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            preview: true,
            // Nothing synced: a preview of a new cluster.
            cluster: { backups: [] },
        });
        // Only the source stack's outputs are read (a StackReference), never a cluster object.
        const clusterReads = (run: ProgramRun) => run.reads.filter((r) => r.type.startsWith("kubernetes:"));
        assert.deepEqual(clusterReads(preview), []);
        const check = preview.one("kubernetes:batch/v1:Job", "gitops-dr-recover-restore-check-job");
        assert.equal(
            (check.outputs as { status?: unknown }).status,
            "<unknown>",
            "the checks' result is unknown in a preview",
        );
        const up = await recover({ restoreBackupName: "prod-eu-1-daily-20261120020000" }, undefined, NAMED);
        assert.deepEqual(clusterReads(up), []);
        assert.equal(
            (restoreOf(up).outputs.metadata as { annotations: Record<string, string> }).annotations[
                "gitops-dr.io/checked-backup"
            ],
            "prod-eu-1-daily-20261120020000",
        );
    });

    it("a failed restore stops the run with a RunError (printed without a stack trace)", async () => {
        const error = await recover(
            {},
            { "kubernetes:velero.io/v1:Restore": () => ({ status: { phase: "Failed", errors: 1 } }) },
        ).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as ProgramError,
        );
        assert.ok(pulumi.RunError.isInstance(error.cause), String(error.cause));
    });
});

describe("backupTimeFromName", () => {
    it("reads Velero's <schedule>-<yyyyMMddHHmmss> names, and nothing else", () => {
        assert.equal(backupTimeFromName("prod-eu-1-daily-20261124020000"), "2026-11-24T02:00:00Z");
        assert.equal(backupTimeFromName("before-upgrade"), undefined);
        assert.equal(backupTimeFromName("x-20261399020000"), undefined);
    });
});

describe("teardown order", () => {
    it("the Restore depends on Velero, its location and its IAM, so destroy and replacement delete it while Velero can still clean its logs", async () => {
        for (const run of [await drill(), await recover()]) {
            const restore = restoreOf(run);
            assert.ok(
                run.dependsOn(restore, run.one("kubernetes:velero.io/v1:BackupStorageLocation")),
                "the location that its finalizer needs Available",
            );
            assert.ok(run.dependsOn(restore, veleroRelease(run)), "a running Velero");
            for (const attachment of run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")) {
                assert.ok(
                    run.dependsOn(restore, attachment),
                    `the role's permissions (${attachment.name}) outlive the Restore`,
                );
            }
        }
    });
});
