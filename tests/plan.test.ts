/**
 * `npm run plan`: the plan of prod, drill and the recover example, generated here and compared with the
 * recorded graph (every step is a registered resource; steps come in dependency order), the committed runbooks
 * kept in step with the script, and the same plan for a cluster with hundreds of namespaces.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";

import { benchCases, benchTable, median, parseBenchArgs } from "../scripts/bench";
import { durationMinutes, goDurationString } from "../scripts/plan/durations";
import { configChanges } from "../scripts/plan/manual";
import { Plan, PlanStep } from "../scripts/plan/model";
import { dependencyOrder } from "../scripts/plan/order";
import { mermaid, renderRunbook, runbookPath } from "../scripts/plan/runbook";
import { planStack } from "../scripts/plan/stack";
import { describeCondition, planSteps, stepReason, waitForConditions } from "../scripts/plan/steps";
import { LARGE_SCALE, ROOT, STACKS, STACK_NAMES, StackName, readStackFilesFrom, scaledConfig } from "../engine";
import type { StackValue } from "../engine";
import { ProgramRun, RegisteredResource } from "../engine";

type Planned = { plan: Plan; run: ProgramRun };

const resourceOf = (run: ProgramRun, step: PlanStep) => run.byUrn(step.urn);
const indexOf = (plan: Plan, predicate: (s: PlanStep) => boolean): number => {
    const i = plan.steps.findIndex(predicate);
    assert.ok(i >= 0, `no such step in ${plan.steps.map((s) => s.number).join(", ")}`);
    return i;
};
const isVeleroRelease = (run: ProgramRun) => (s: PlanStep) =>
    s.type === "kubernetes:helm.sh/v3:Release" && resourceOf(run, s).inputs.chart === "velero";
const isSourceLocation = (s: PlanStep) =>
    s.type === "kubernetes:velero.io/v1:BackupStorageLocation" && s.objectName === "source";
const isRestore = (s: PlanStep) => s.type === "kubernetes:velero.io/v1:Restore";

describe("plan", () => {
    const planned = {} as Record<StackName, Planned>;
    before(async () => {
        for (const name of STACK_NAMES) {
            planned[name] = await planStack(STACKS[name]);
        }
    });

    for (const name of STACK_NAMES) {
        describe(name, () => {
            it("every step is a registered custom resource, listed once", () => {
                const { plan, run } = planned[name];
                assert.ok(plan.steps.length > 0);
                for (const step of plan.steps) {
                    const r = run.byUrn(step.urn);
                    assert.equal(r.type, step.type);
                    assert.equal(r.name, step.logicalName);
                    assert.ok(r.custom, `${step.logicalName} is a custom resource`);
                }
                assert.equal(new Set(plan.steps.map((s) => s.urn)).size, plan.steps.length);
            });

            it("steps come in dependency order: when A waits for B, B is listed before A", () => {
                const { plan, run } = planned[name];
                for (const [i, a] of plan.steps.entries()) {
                    for (const [j, b] of plan.steps.entries()) {
                        if (i !== j && run.dependsOn(resourceOf(run, a), resourceOf(run, b))) {
                            assert.ok(
                                j < i,
                                `${a.number} ${a.logicalName} waits for ${b.number} ${b.logicalName}, listed after it`,
                            );
                        }
                    }
                }
            });

            it("the plan does not depend on the order in which resources were registered", () => {
                const { plan, run } = planned[name];
                const reversed = new ProgramRun([...run.resources].reverse(), run.outputs, run.config);
                const again = planSteps(reversed);
                assert.deepEqual(
                    again.map((s) => [s.number, s.urn, s.after]),
                    plan.steps.map((s) => [s.number, s.urn, s.after]),
                );
            });

            it("each step names the earlier steps it waits on, and only the nearest", () => {
                const { plan, run } = planned[name];
                for (const [i, step] of plan.steps.entries()) {
                    const earlier = plan.steps
                        .slice(0, i)
                        .filter((b) => run.dependsOn(resourceOf(run, step), resourceOf(run, b)));
                    for (const u of step.after) {
                        assert.ok(
                            earlier.some((b) => b.urn === u),
                            `${step.logicalName}: ${u} is an earlier step it waits for`,
                        );
                    }
                    // None is implied by another: a step waited for through a named one is not named again.
                    for (const u of step.after) {
                        assert.ok(
                            !step.after.some((v) => v !== u && run.dependsOn(run.byUrn(v), run.byUrn(u))),
                            `${step.logicalName}: ${u} is implied`,
                        );
                    }
                    // Every earlier step it waits for is named or implied by a named one.
                    for (const b of earlier) {
                        const implied = step.after.some(
                            (u) => u === b.urn || run.dependsOn(run.byUrn(u), resourceOf(run, b)),
                        );
                        assert.ok(
                            implied,
                            `${step.logicalName} waits for ${b.logicalName}, which the plan does not show`,
                        );
                    }
                }
            });

            it("every resource that waits (Helm, waitFor, Job, custom timeouts) is a step", () => {
                const { plan, run } = planned[name];
                const waiting = run.resources.filter(
                    (r) =>
                        r.custom &&
                        (r.type.startsWith("kubernetes:helm.sh/") ||
                            r.type === "kubernetes:batch/v1:Job" ||
                            r.customTimeouts?.create !== undefined ||
                            (r.inputs.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[
                                "pulumi.com/waitFor"
                            ] !== undefined),
                );
                assert.ok(waiting.length > 0);
                for (const r of waiting) {
                    assert.ok(
                        plan.steps.some((s) => s.urn === r.urn),
                        `${r.name} waits but is not in the plan`,
                    );
                }
            });

            it("timeouts come from the recorded resource: customTimeouts, the Helm release's timeout, or the provider default", () => {
                const { plan, run } = planned[name];
                for (const step of plan.steps) {
                    const r = resourceOf(run, step);
                    if (step.reason === "helm") {
                        assert.equal(step.timeout.minutes, Number(r.inputs.timeout) / 60);
                    } else if (r.customTimeouts?.create !== undefined) {
                        assert.equal(step.timeout.minutes, durationMinutes(r.customTimeouts.create));
                    } else if (step.waitsFor.length > 0) {
                        assert.equal(step.timeout.minutes, 10);
                    } else {
                        assert.equal(step.timeout.minutes, undefined);
                    }
                }
            });

            it("the Mermaid graph draws every step and only edges the recorded graph has", () => {
                const { plan, run } = planned[name];
                const graph = mermaid(plan);
                const ids = plan.steps.map((_, i) => `S${i + 1}`);
                for (const [i, step] of plan.steps.entries()) {
                    assert.match(graph, new RegExp(`\\b${ids[i]}\\["${step.number.replace(".", "\\.")} `));
                }
                const edges = [...graph.matchAll(/\bS(\d+) --> S(\d+)\b/g)].map((m) => [
                    plan.steps[Number(m[1]) - 1],
                    plan.steps[Number(m[2]) - 1],
                ]);
                assert.equal(
                    edges.length,
                    plan.steps.reduce((n, s) => n + s.after.length, 0),
                );
                for (const [from, to] of edges) {
                    assert.ok(
                        run.dependsOn(resourceOf(run, to), resourceOf(run, from)),
                        `${to.logicalName} does not wait for ${from.logicalName}`,
                    );
                }
            });

            it(`docs/runbooks/${name}.md is what \`npm run plan -- ${name}\` writes`, async () => {
                const committed = fs.existsSync(runbookPath(name))
                    ? fs.readFileSync(runbookPath(name), "utf8")
                    : "(missing)";
                const shipped = renderRunbook(planned[name].plan);
                if (committed === shipped) {
                    return;
                }
                // A user who edited the stack file and ran `npm run plan` has the runbook of their own stack: it
                // must be what the plan writes for that file, as it is now.
                const previous = readStackFilesFrom(ROOT);
                try {
                    const own = renderRunbook((await planStack(STACKS[name])).plan);
                    assert.equal(committed, own, `run: npm run plan -- ${name}`);
                } finally {
                    readStackFilesFrom(previous);
                }
            });

            it("the manual steps are the cluster, the stack, the secrets, `pulumi up` and the checks", () => {
                const { plan } = planned[name];
                assert.deepEqual(
                    plan.manual.map((m) => m.number),
                    ["1", "2", "3", "4", "5"],
                );
                assert.deepEqual(
                    plan.manual.filter((m) => m.runsPlan).map((m) => m.number),
                    ["4"],
                );
                assert.ok(plan.steps.every((s) => s.number.startsWith("4.")));
                const commands = plan.manual.flatMap((m) => m.checks.map((c) => c.command));
                for (const key of Object.keys(STACKS[name].secrets)) {
                    assert.ok(
                        commands.some((c) => c.includes(`gitops-dr:${key}`)),
                        `a manual step sets or checks ${key}`,
                    );
                }
                assert.ok(commands.includes("pulumi up"));
            });
        });
    }

    for (const name of ["drill", "recover"] as const) {
        it(`${name}: Velero release, then the source location, then the Restore, each waiting for the one before`, () => {
            const { plan, run } = planned[name];
            const release = indexOf(plan, isVeleroRelease(run));
            const source = indexOf(plan, isSourceLocation);
            const restore = indexOf(plan, isRestore);
            assert.ok(release < source && source < restore, `${release} < ${source} < ${restore}`);
            assert.deepEqual(plan.steps[source].after, [plan.steps[release].urn]);
            // Between them, the checks before the restore (components/tasks/pre-restore.js), a Job the restore waits for.
            const check = indexOf(plan, (s) => s.logicalName.endsWith("-restore-check-job"));
            assert.ok(source < check && check < restore, `${source} < ${check} < ${restore}`);
            assert.ok(plan.steps[check].after.includes(plan.steps[source].urn));
            assert.ok(plan.steps[restore].after.includes(plan.steps[check].urn));
            assert.deepEqual(plan.steps[source].waitsFor, [
                "`.status.phase` is `Available`",
                "`.status.lastSyncedTime` is set",
            ]);
            assert.match(
                plan.steps[restore].waitsFor.join(),
                /`Completed`, `PartiallyFailed`, `Failed`, `FailedValidation`/,
            );
            assert.deepEqual(
                plan.steps[restore].checks.map((c) => c.command.split(" ").slice(0, 3).join(" ")),
                ["velero restore get", "velero restore describe"],
            );
        });
    }

    it("recover: the cluster's own Schedules come after the Restore; prod's after the release", () => {
        const recover = planned.recover.plan;
        const schedule = indexOf(recover, (s) => s.type === "kubernetes:velero.io/v1:Schedule");
        // After the restore and the checks after it (components/tasks/post-restore.js).
        const reports = recover.steps.filter((s) => s.logicalName.endsWith("-restore-report-job"));
        assert.equal(reports.length, 2, "the data restore's checks and the credentials restore's");
        for (const report of reports) {
            assert.ok(indexOf(recover, isRestore) < recover.steps.indexOf(report));
            assert.ok(recover.steps.indexOf(report) < schedule);
        }
        assert.deepEqual([...recover.steps[schedule].after].sort(), reports.map((r) => r.urn).sort());
        const prod = planned.prod;
        assert.ok(
            indexOf(prod.plan, isVeleroRelease(prod.run)) <
                indexOf(prod.plan, (s) => s.type === "kubernetes:velero.io/v1:Schedule"),
        );
        assert.equal(prod.plan.steps.filter(isRestore).length, 0);
    });

    it("prod: each bucket comes before its Object Lock configuration and before Velero", () => {
        const { plan, run } = planned.prod;
        const buckets = plan.steps.filter((s) => s.type === "aws:s3/bucket:Bucket");
        // The vault, its replica and the audit trail's log bucket.
        assert.equal(buckets.length, 3);
        for (const bucket of buckets) {
            const lock = indexOf(
                plan,
                (s) => s.type.endsWith(":BucketObjectLockConfiguration") && s.objectName === bucket.objectName,
            );
            assert.ok(plan.steps.indexOf(bucket) < lock);
        }
        const vault = buckets.find((b) => b.objectName === run.outputs.bucketName)!;
        assert.ok(plan.steps.indexOf(vault) < indexOf(plan, isVeleroRelease(run)));
    });

    it("a longer restore timeout in config is the Restore step's timeout", async () => {
        const { plan } = await planStack(STACKS.drill, { restoreTimeoutMinutes: 480 });
        assert.equal(plan.steps.find(isRestore)!.timeout.minutes, 480);
        assert.equal(
            planned.drill.plan.steps.find(isRestore)!.timeout.minutes,
            durationMinutes(planned.drill.run.restore().customTimeouts!.create!),
        );
    });

    describe(`at scale (${LARGE_SCALE.excludedNamespaces} excluded, ${LARGE_SCALE.restoreNamespaces} restored namespaces)`, () => {
        for (const name of STACK_NAMES) {
            it(`${name}: the same manual steps and the same plan steps`, async () => {
                const scaled = await planStack(STACKS[name], scaledConfig(STACKS[name], LARGE_SCALE));
                // The scale reached the program: the Restore or the Schedules carry the namespaces.
                const restore =
                    scaled.run.ofType("kubernetes:velero.io/v1:Restore").length > 0 ? scaled.run.restore() : undefined;
                if (restore !== undefined) {
                    assert.equal(
                        (restore.inputs.spec as { includedNamespaces: string[] }).includedNamespaces.length,
                        LARGE_SCALE.restoreNamespaces,
                    );
                }
                // The credentials Schedule takes every namespace, by label: it has no exclusions to scale.
                const credentials =
                    scaled.run.ofType("kubernetes:velero.io/v1:Schedule").length > 0
                        ? scaled.run.schedule("credentials")
                        : undefined;
                for (const schedule of scaled.run
                    .ofType("kubernetes:velero.io/v1:Schedule")
                    .filter((s) => s !== credentials)) {
                    assert.ok(
                        (schedule.inputs.spec as { template: { excludedNamespaces: string[] } }).template
                            .excludedNamespaces.length > LARGE_SCALE.excludedNamespaces,
                    );
                }
                assert.ok(restore !== undefined || scaled.run.ofType("kubernetes:velero.io/v1:Schedule").length > 0);

                const base = planned[name].plan;
                assert.equal(scaled.plan.manual.length, base.manual.length);
                assert.equal(scaled.plan.steps.length, base.steps.length);
                assert.deepEqual(
                    scaled.plan.steps.map((s) => [s.number, s.type, s.logicalName]),
                    base.steps.map((s) => [s.number, s.type, s.logicalName]),
                );
                assert.equal(
                    scaled.plan.manual.reduce((n, m) => n + m.checks.length, 0),
                    base.manual.reduce((n, m) => n + m.checks.length, 0),
                    "no manual command per namespace",
                );
            });
        }
    });
});

describe("plan building blocks", () => {
    it("waitFor conditions in words: one, a JSON array, a filter over terminal phases, a condition", () => {
        assert.deepEqual(
            waitForConditions('["jsonpath={.status.phase}=Available","jsonpath={.status.lastSyncedTime}"]').map(
                describeCondition,
            ),
            ["`.status.phase` is `Available`", "`.status.lastSyncedTime` is set"],
        );
        assert.deepEqual(
            waitForConditions("jsonpath={.status[?@ == 'Completed' || @ == 'Failed']}").map(describeCondition),
            ["`.status` holds one of `Completed`, `Failed`"],
        );
        assert.equal(describeCondition("condition=Ready"), "condition `Ready` is `True`");
        assert.equal(describeCondition("condition=Progressing=False"), "condition `Progressing` is `False`");
        assert.equal(describeCondition("jsonpath={.status.sync.status}=Synced"), "`.status.sync.status` is `Synced`");
    });

    it("Go durations: minutes for timeouts, Velero's printing for TTLs", () => {
        assert.equal(durationMinutes("300m"), 300);
        assert.equal(durationMinutes("1h30m"), 90);
        assert.equal(durationMinutes("90s"), 1.5);
        assert.throws(() => durationMinutes("5 minutes"), /not a Go duration/);
        assert.equal(goDurationString("720h"), "720h0m0s");
        assert.equal(goDurationString("90m"), "1h30m0s");
        assert.equal(goDurationString("45s"), "45s");
    });

    const fake = (name: string, deps: string[], extra: Partial<RegisteredResource> = {}): RegisteredResource => ({
        urn: `urn:${name}`,
        realUrn: `urn:${name}`,
        type: "kubernetes:batch/v1:Job",
        name,
        custom: true,
        inputs: {},
        outputs: {},
        outputSecretPaths: [],
        aliases: [],
        secretPaths: [],
        dependencies: deps.map((d) => `urn:${d}`),
        propertyDependencies: {},
        protect: false,
        retainOnDelete: false,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        replaceOnChanges: [],
        ...extra,
    });

    it("dependency order does not follow registration order, and keeps only the nearest earlier steps", () => {
        // Registered last-first; c waits for b through a non-step (x), and for a directly and through b.
        const resources = [
            fake("c", ["x", "a"]),
            fake("x", ["b"], { type: "kubernetes:core/v1:ConfigMap" }),
            fake("b", ["a"]),
            fake("a", []),
        ];
        const run = new ProgramRun(resources, {}, {});
        const steps = resources.filter((r) => stepReason(r) !== undefined);
        assert.deepEqual(
            steps.map((r) => r.name),
            ["c", "b", "a"],
        );
        const ordered = dependencyOrder(run, steps);
        assert.deepEqual(
            ordered.map((o) => o.resource.name),
            ["a", "b", "c"],
        );
        assert.deepEqual(
            ordered.map((o) => o.after),
            [[], ["urn:a"], ["urn:b"]],
        );
    });

    it("steps that wait for nothing in common come in waves, by logical name", () => {
        const resources = [fake("z", []), fake("y", ["z"]), fake("m", [])];
        const ordered = dependencyOrder(new ProgramRun(resources, {}, {}), resources);
        // m and z start together; y waits for z.
        assert.deepEqual(
            ordered.map((o) => o.resource.name),
            ["m", "z", "y"],
        );
    });

    it("dependency order refuses a cycle", () => {
        const resources = [fake("a", ["b"]), fake("b", ["a"])];
        assert.throws(() => dependencyOrder(new ProgramRun(resources, {}, {}), resources), /cycle among: a, b/);
    });

    it("a resource is a step when it waits or is a milestone, never a provider or a plain object", () => {
        assert.equal(stepReason(fake("j", [])), "job");
        assert.equal(stepReason(fake("cm", [], { type: "kubernetes:core/v1:ConfigMap" })), undefined);
        assert.equal(
            stepReason(fake("cm", [], { type: "kubernetes:core/v1:ConfigMap", customTimeouts: { create: "5m" } })),
            "customTimeouts",
        );
        assert.equal(
            stepReason(
                fake("cm", [], {
                    type: "kubernetes:core/v1:ConfigMap",
                    inputs: { metadata: { annotations: { "pulumi.com/waitFor": "condition=Ready" } } },
                }),
            ),
            "waitFor",
        );
        assert.equal(stepReason(fake("app", [], { type: "kubernetes:argoproj.io/v1alpha1:Application" })), "milestone");
        assert.equal(stepReason(fake("p", [], { type: "pulumi:providers:kubernetes" })), undefined);
        assert.equal(stepReason(fake("c", [], { type: "gitops-dr:velero:Velero", custom: false })), undefined);
    });

    it("config changes from a copied stack: set what differs, remove what the target lacks, never retype a secret", () => {
        const from = new Map<string, StackValue>([
            ["gitops-dr:mode", "protect"],
            ["gitops-dr:region", "eu-west-1"],
            ["gitops-dr:labels", ["a=b"]],
            ["gitops-dr:repoPassword", { secure: "x" }],
        ]);
        const to = new Map<string, StackValue>([
            ["gitops-dr:mode", "recover"],
            ["gitops-dr:labels", ["a=b", "c=d e"]],
            ["gitops-dr:repoPassword", { secure: "y" }],
        ]);
        assert.deepEqual(configChanges(from, to), [
            "pulumi config set gitops-dr:mode recover",
            "pulumi config rm gitops-dr:labels",
            "pulumi config set --path 'gitops-dr:labels[0]' a=b",
            "pulumi config set --path 'gitops-dr:labels[1]' 'c=d e'",
            "pulumi config rm gitops-dr:region",
        ]);
    });
});

describe("bench", () => {
    it("times every shipped stack and a scaled copy of each", () => {
        const cases = benchCases();
        assert.deepEqual(
            cases.slice(0, STACK_NAMES.length).map((c) => c.label),
            STACK_NAMES,
        );
        const scaled = cases.slice(STACK_NAMES.length);
        assert.equal(scaled.length, STACK_NAMES.length);
        for (const c of scaled) {
            assert.equal((c.config.excludedNamespaces as string[]).length, LARGE_SCALE.excludedNamespaces);
        }
        assert.equal(
            (scaled.find((c) => c.spec.name === "recover")!.config.restoreNamespaces as string[]).length,
            LARGE_SCALE.restoreNamespaces,
        );
        // protect refuses restoreNamespaces.
        assert.equal(scaled.find((c) => c.spec.name === "prod")!.config.restoreNamespaces, undefined);
    });

    it("median, arguments and the table", () => {
        assert.equal(median([5, 1, 3]), 3);
        assert.equal(median([4, 1, 3, 2]), 2.5);
        assert.throws(() => median([]), /no values/);
        assert.deepEqual(parseBenchArgs([]), { runs: 5, modelOnly: false });
        assert.deepEqual(parseBenchArgs(["--runs", "9"]), { runs: 9, modelOnly: false });
        assert.deepEqual(parseBenchArgs(["--runs=2", "--model-only"]), { runs: 2, modelOnly: true });
        assert.throws(() => parseBenchArgs(["--runs", "0"]), /positive integer/);
        assert.throws(() => parseBenchArgs(["--fast"]), /unknown argument --fast/);
        const table = benchTable([
            { label: "drill", firstMs: 900, timesMs: [300, 100, 200], resources: 15, peakRssMiB: 250.4 },
        ]);
        assert.match(table, /\| drill \| 15 \| 200 \| 100 \| 300 \| 900 \| 250 \|/);
    });
});
