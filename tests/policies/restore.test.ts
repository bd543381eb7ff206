import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import { argocdRootAppAfterRestore } from "../../policies/rules/argocd-root-app-after-restore";
import { veleroRestoreAfterSyncBarrier } from "../../policies/rules/velero-restore-after-sync-barrier";
import { veleroRestoreNotOwnSchedule } from "../../policies/rules/velero-restore-not-own-schedule";
import { veleroRestoreSource } from "../../policies/rules/velero-restore-source";
import { veleroSchedulesAfterRestore } from "../../policies/rules/velero-schedules-after-restore";
import {
    FIXTURE_TYPES,
    FixtureResource,
    FixtureStack,
    N,
    compliantStack,
    scheduleTemplate,
    violationsOf,
} from "../../policies/testing/stack";

const protect = compliantStack("protect");
const recover = compliantStack("recover");
const drill = compliantStack("drill");

async function messages(stack: FixtureStack, policy: Policy): Promise<string[]> {
    return (await violationsOf(stack, policy)).map((v) => v.message);
}

function annotate(r: FixtureResource, key: string, value: string | undefined): void {
    const metadata = r.props.metadata as { annotations?: Record<string, string> };
    metadata.annotations ??= {};
    if (value === undefined) {
        delete metadata.annotations[key];
    } else {
        metadata.annotations[key] = value;
    }
}

const restoreSpec = (stack: FixtureStack, spec: Record<string, unknown>) =>
    stack.with(N.restore, (r) => (r.props.spec = spec));
const veleroUrn = drill.urnOf(FIXTURE_TYPES.release, N.velero);

describe("policy velero-restore-after-sync-barrier", () => {
    const barrierMust =
        "A Restore must wait for the sync barrier: a backup-check Job, or the source BackupStorageLocation awaited until it is Available and synced. A Restore created before its backup is synced fails validation and is never retried.";
    const awaited = (found: string) =>
        `A Restore must be awaited until it has ended, so that what follows starts after the restore: pulumi.com/waitFor on Completed, or on the terminal phases with the phase checked before anything depends on the restore. Found: ${found}. Fix: Annotate it pulumi.com/waitFor: "jsonpath={.status.phase}=Completed", or wait for every terminal phase (Completed, PartiallyFailed, Failed, FailedValidation) and check the phase; and no pulumi.com/skipAwait.`;
    /** The drill with the source location as its barrier instead of the Job, as the program may build it. */
    const locationBarrier = (waitFor: string | undefined) => {
        const withLocation = drill.add(
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "source-location",
            {
                metadata: {
                    name: "source",
                    namespace: "velero",
                    annotations: waitFor === undefined ? {} : { "pulumi.com/waitFor": waitFor },
                },
                spec: {
                    provider: "aws",
                    accessMode: "ReadOnly",
                    objectStorage: { bucket: "acme-gitops-dr-vault", prefix: "prod-eu-1" },
                },
            },
            { dependsOn: [veleroUrn] },
        );
        return withLocation
            .without(N.check)
            .with(
                N.restore,
                (r) =>
                    (r.dependencies = [
                        withLocation.urnOf("kubernetes:velero.io/v1:BackupStorageLocation", "source-location"),
                    ]),
            );
    };

    it("passes the compliant recover and drill stacks, and does not apply to protect", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, veleroRestoreAfterSyncBarrier), []);
        }
    });

    it("reports a recovery or drill without a Restore", async () => {
        assert.deepEqual(await messages(drill.without(N.restore), veleroRestoreAfterSyncBarrier), [
            "A drill stack must restore the backups with a Restore that waits for the backup sync and is awaited until it has ended. Found: no Restore in this drill stack. Fix: Register the restore sequence (gitops-dr does in recover and drill mode): the sync barrier, then a velero.io/v1 Restore depending on it.",
        ]);
    });

    it("reports a Restore that waits for no sync barrier", async () => {
        const stack = drill.with(N.restore, (r) => (r.dependencies = [veleroUrn]));
        assert.deepEqual(await messages(stack, veleroRestoreAfterSyncBarrier), [
            `${barrierMust} Found: Restore restore depends on neither. Fix: Make the Restore depend on the backup-check Job or on the awaited source BackupStorageLocation (dependsOn).`,
        ]);
    });

    it("reports a barrier Job that Pulumi is told not to await", async () => {
        const stack = drill.with(N.check, (r) => annotate(r, "pulumi.com/skipAwait", "true"));
        assert.deepEqual(await messages(stack, veleroRestoreAfterSyncBarrier), [
            `${barrierMust} Found: Restore restore waits for Job restore-backup-check, annotated pulumi.com/skipAwait: "true", so Pulumi does not wait for it to complete. Fix: Remove the pulumi.com/skipAwait annotation from the Job.`,
        ]);
    });

    it("accepts the source location awaited until Available and synced as the barrier", async () => {
        assert.deepEqual(
            await messages(
                locationBarrier(
                    JSON.stringify(["jsonpath={.status.phase}=Available", "jsonpath={.status.lastSyncedTime}"]),
                ),
                veleroRestoreAfterSyncBarrier,
            ),
            [],
        );
    });

    it("reports a source location that is not awaited until it has synced", async () => {
        assert.deepEqual(
            await messages(locationBarrier("jsonpath={.status.phase}=Available"), veleroRestoreAfterSyncBarrier),
            [
                `${barrierMust} Found: Restore restore waits for BackupStorageLocation source-location (pulumi.com/waitFor "jsonpath={.status.phase}=Available"), which is not awaited until Available and synced. Fix: Annotate the location pulumi.com/waitFor: '["jsonpath={.status.phase}=Available", "jsonpath={.status.lastSyncedTime}"]'.`,
            ],
        );
    });

    it("reports a Restore that does not wait for Velero's release", async () => {
        const stack = recover.with(N.check, (r) => (r.dependencies = []));
        assert.deepEqual(await messages(stack, veleroRestoreAfterSyncBarrier), [
            "A Restore must wait for Velero's Helm release, which installs its CRDs and server. Found: Restore restore does not depend on Release velero-release. Fix: Make the Restore, or the sync barrier it depends on, depend on the Velero release.",
        ]);
    });

    it("reports a Restore that is not awaited until it has ended", async () => {
        assert.deepEqual(
            await messages(
                drill.with(N.restore, (r) => annotate(r, "pulumi.com/waitFor", undefined)),
                veleroRestoreAfterSyncBarrier,
            ),
            [awaited("Restore restore has pulumi.com/waitFor unset")],
        );
        assert.deepEqual(
            await messages(
                drill.with(N.restore, (r) => annotate(r, "pulumi.com/waitFor", "condition=Ready")),
                veleroRestoreAfterSyncBarrier,
            ),
            [awaited('Restore restore has pulumi.com/waitFor "condition=Ready"')],
        );
        assert.deepEqual(
            await messages(
                drill.with(N.restore, (r) => annotate(r, "pulumi.com/skipAwait", "true")),
                veleroRestoreAfterSyncBarrier,
            ),
            [awaited('Restore restore is annotated pulumi.com/skipAwait: "true"')],
        );
    });

    it("accepts a wait for every terminal phase, and not one that also ends on a running phase", async () => {
        const terminal =
            "jsonpath={.status[?@ == 'Completed' || @ == 'PartiallyFailed' || @ == 'Failed' || @ == 'FailedValidation']}";
        assert.deepEqual(
            await messages(
                drill.with(N.restore, (r) => annotate(r, "pulumi.com/waitFor", terminal)),
                veleroRestoreAfterSyncBarrier,
            ),
            [],
        );
        const running = "jsonpath={.status[?@ == 'Completed' || @ == 'InProgress']}";
        assert.deepEqual(
            await messages(
                drill.with(N.restore, (r) => annotate(r, "pulumi.com/waitFor", running)),
                veleroRestoreAfterSyncBarrier,
            ),
            [awaited(`Restore restore has pulumi.com/waitFor "${running}"`)],
        );
    });

    it("accepts waitFor as a JSON list of conditions that includes Completed, and a barrier reached through another resource", async () => {
        const list = drill.with(N.restore, (r) =>
            annotate(
                r,
                "pulumi.com/waitFor",
                JSON.stringify(["jsonpath={.status.phase}=Completed", "jsonpath={.status.errors}=0"]),
            ),
        );
        assert.deepEqual(await messages(list, veleroRestoreAfterSyncBarrier), []);
        const inProgress = drill.with(N.restore, (r) =>
            annotate(r, "pulumi.com/waitFor", "jsonpath={.status.phase}=InProgress"),
        );
        assert.equal((await messages(inProgress, veleroRestoreAfterSyncBarrier)).length, 1);
        const checkUrn = drill.urnOf(FIXTURE_TYPES.job, N.check);
        const chained = drill
            .add(
                "kubernetes:core/v1:ConfigMap",
                "between",
                { metadata: { name: "between" } },
                { dependsOn: [checkUrn] },
            )
            .with(N.restore, (r) => (r.dependencies = [drill.urnOf("kubernetes:core/v1:ConfigMap", "between")]));
        assert.deepEqual(await messages(chained, veleroRestoreAfterSyncBarrier), []);
    });
});

describe("policy velero-restore-source", () => {
    const must = "A Restore must name exactly one source: spec.backupName or spec.scheduleName.";

    it("passes the compliant stacks", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, veleroRestoreSource), []);
        }
    });

    it("reports a Restore without a source", async () => {
        assert.deepEqual(await messages(restoreSpec(drill, { existingResourcePolicy: "none" }), veleroRestoreSource), [
            `${must} Found: Restore restore sets neither. Fix: Set spec.scheduleName to the source cluster's schedule, or spec.backupName to one of its backups.`,
        ]);
    });

    it("reports a Restore with two sources", async () => {
        assert.deepEqual(
            await messages(
                restoreSpec(drill, { backupName: "prod-eu-1-daily-20250101020000", scheduleName: "prod-eu-1-daily" }),
                veleroRestoreSource,
            ),
            [
                `${must} Found: Restore restore sets both backupName "prod-eu-1-daily-20250101020000" and scheduleName "prod-eu-1-daily". Fix: Keep only one of them; Velero rejects a Restore that sets both.`,
            ],
        );
    });

    it("judges what the program registered, not the live Restore Velero completed with both fields", async () => {
        // After pulumi up, the stack's outputs are the live object: Velero filled in backupName.
        const live = drill.with(N.restore, (r) => {
            r.outputs = {
                ...r.props,
                spec: { ...(r.props.spec as object), backupName: "prod-eu-1-daily-20250101020000" },
                status: { phase: "Completed" },
            };
        });
        assert.deepEqual(await messages(live, veleroRestoreSource), []);
    });
});

describe("policy velero-restore-not-own-schedule", () => {
    const ownSchedule = (restored: string, where: string) =>
        `A Restore must not restore from the restoring cluster's own schedule: Velero picks the newest Completed backup of that name in any location, which can be the new cluster's own. Found: Restore restore restores schedule "${restored}", which is this stack's ${where}. Fix: Name the cluster's schedules after the cluster (<clusterName>-<tier>, gitops-dr:clusterName) so they differ from the source's, or restore by spec.backupName.`;

    it("passes the compliant stacks", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, veleroRestoreNotOwnSchedule), []);
        }
    });

    it("reports a recovery restoring its own schedule", async () => {
        assert.deepEqual(
            await messages(restoreSpec(recover, { scheduleName: "prod-eu-2-daily" }), veleroRestoreNotOwnSchedule),
            [ownSchedule("prod-eu-2-daily", "schedule prod-eu-2-daily (Schedule velero-schedule-daily)")],
        );
    });

    it("reports the chart-named clash: both clusters' schedules rendered as velero-daily", async () => {
        const stack = restoreSpec(
            recover.with(
                N.velero,
                (r) =>
                    ((r.props.values as Record<string, unknown>).schedules = {
                        daily: { schedule: "0 2 * * *", template: scheduleTemplate() },
                    }),
            ),
            { scheduleName: "velero-daily" },
        );
        assert.deepEqual(await messages(stack, veleroRestoreNotOwnSchedule), [
            ownSchedule("velero-daily", "schedule velero-daily (velero-release values schedules.daily)"),
        ]);
    });
});

describe("policy velero-schedules-after-restore", () => {
    const must =
        "A recovered cluster's backup schedules must not fire before the restore has ended: each Schedule must be created after the Restore.";

    it("passes the compliant recover stack, and does not apply to protect or drill", async () => {
        for (const stack of [recover, protect, drill]) {
            assert.deepEqual(await messages(stack, veleroSchedulesAfterRestore), []);
        }
    });

    it("reports a Schedule created independently of the Restore", async () => {
        const stack = recover.with(N.schedule, (r) => (r.propertyDependencies = {}));
        assert.deepEqual(await messages(stack, veleroSchedulesAfterRestore), [
            `${must} Found: Schedule velero-schedule-daily does not depend on Restore restore. Fix: Make the Schedule depend on the Restore (an input or dependsOn).`,
        ]);
    });

    it("reports schedules rendered by the chart, which exist before any Restore", async () => {
        const stack = recover.without(N.schedule).with(
            N.velero,
            (r) =>
                ((r.props.values as Record<string, unknown>).schedules = {
                    daily: { schedule: "0 2 * * *", template: scheduleTemplate() },
                }),
        );
        assert.deepEqual(await messages(stack, veleroSchedulesAfterRestore), [
            `${must} Found: schedule velero-daily (velero-release values schedules.daily) is rendered by the velero chart, so it exists as soon as Velero is installed, before the Restore. Fix: Register the schedules as velero.io/v1 Schedule objects that depend on the Restore (gitops-dr does in recover mode).`,
        ]);
    });
});

describe("policy argocd-root-app-after-restore", () => {
    const must =
        "In a recovery or drill, Argo CD must not sync before the restore has ended: every Application must wait for the Restore.";
    const fix = "Make the Application depend on the Restore (an input taken from it, or dependsOn).";

    it("passes the compliant recover and drill stacks, and does not apply to protect", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, argocdRootAppAfterRestore), []);
        }
    });

    it("reports a root Application that does not wait for the Restore", async () => {
        const stack = drill.with(N.rootApp, (r) => (r.propertyDependencies = {}));
        assert.deepEqual(await messages(stack, argocdRootAppAfterRestore), [
            `${must} Found: Application argocd-root-app does not depend on Restore restore. Fix: ${fix}`,
        ]);
    });

    it("accepts a wait through dependsOn or through the Argo CD release", async () => {
        const restoreUrn = drill.urnOf(FIXTURE_TYPES.restore, N.restore);
        const direct = drill.with(N.rootApp, (r) => {
            r.propertyDependencies = {};
            r.dependencies.push(restoreUrn);
        });
        assert.deepEqual(await messages(direct, argocdRootAppAfterRestore), []);
        const viaRelease = drill
            .with(N.rootApp, (r) => (r.propertyDependencies = {}))
            .with(N.argocd, (r) => r.dependencies.push(restoreUrn));
        assert.deepEqual(await messages(viaRelease, argocdRootAppAfterRestore), []);
    });

    it("reports an ApplicationSet that does not wait for the Restore", async () => {
        const stack = recover.add(FIXTURE_TYPES.applicationSet, "apps", {
            metadata: { name: "apps" },
            spec: { generators: [], template: { metadata: { name: "{{name}}" }, spec: {} } },
        });
        assert.deepEqual(await messages(stack, argocdRootAppAfterRestore), [
            `${must} Found: ApplicationSet apps does not depend on Restore restore. Fix: ${fix}`,
        ]);
    });
});
