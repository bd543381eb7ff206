import * as assert from "node:assert/strict";

import { Evaluation, Violation, evaluatePack } from "../../policies/gate/evaluate";
import { POLICIES } from "../../policies/policies";
import { analyzedResources } from "../../policies/gate/recording";
import { compliantStack } from "../../policies/testing/stack";
import { VARIANTS, cloneRun } from "../../policies/testing/variants";
import { GATED_STACKS, gateRun } from "../../scripts/policy";
import { ProgramRun, runProgram } from "../../engine";
import { refreshOutputs } from "../../engine/providers";
import { recordRuns } from "../fixtures/urn-variants";

/**
 * Mandatory violations the pack reports on the program this branch was built on, each a real defect reported
 * to the main session (docs/policies.md, "Defects the pack finds"). Any other mandatory violation fails the
 * test; an entry whose defect is fixed simply stops matching (delete it then).
 */
const KNOWN_DEFECTS: Readonly<Record<string, readonly { readonly policyName: string; readonly why: string }[]>> = {};

const key = (v: Pick<Violation, "policyName" | "enforcementLevel" | "message">) =>
    `${v.enforcementLevel} ${v.policyName}: ${v.message}`;

/** Violations of `after` that `before` does not have, and those it lost, as multisets. */
function difference(before: Evaluation, after: Evaluation): { added: string[]; removed: string[] } {
    const remaining = after.violations.map(key);
    const removed: string[] = [];
    for (const v of before.violations.map(key)) {
        const i = remaining.indexOf(v);
        if (i >= 0) {
            remaining.splice(i, 1);
        } else {
            removed.push(v);
        }
    }
    return { added: remaining, removed };
}

describe("the policy pack over the shipped stacks (offline engine)", () => {
    const runs = new Map<string, ProgramRun>();
    const evaluations = new Map<string, Evaluation>();
    before(async () => {
        for (const [stack, options] of Object.entries(GATED_STACKS)) {
            const run = await runProgram(options);
            runs.set(stack, run);
            evaluations.set(stack, await gateRun(run));
        }
    });

    for (const stack of Object.keys(GATED_STACKS)) {
        it(`${stack}: no mandatory violation but the known defects of the program`, () => {
            const known = new Set((KNOWN_DEFECTS[stack] ?? []).map((d) => d.policyName));
            const unexpected = evaluations
                .get(stack)!
                .violations.filter((v) => v.enforcementLevel === "mandatory" && !known.has(v.policyName));
            assert.deepEqual(unexpected.map(key), []);
        });
    }

    it("prod: no advisory either (COMPLIANCE, a replica, alerts)", () => {
        assert.deepEqual(
            evaluations.get("prod")!.violations.filter((v) => v.enforcementLevel === "advisory"),
            [],
        );
    });

    it("judges every stack with the policies of its mode and no other", () => {
        const notApplicable = (stack: string) =>
            evaluations
                .get(stack)!
                .notApplicable.map((n) => n.policyName)
                .sort();
        assert.ok(
            notApplicable("prod").includes("velero-drill-read-only") &&
                notApplicable("prod").includes("iam-restore-role-read-only"),
        );
        assert.ok(
            !notApplicable("drill").includes("velero-drill-read-only") &&
                notApplicable("drill").includes("velero-schedule-frequency"),
        );
        assert.ok(
            !notApplicable("recover").includes("velero-recover-source-read-only") &&
                !notApplicable("recover").includes("iam-restore-role-read-only"),
        );
    });

    describe(`broken variants (${VARIANTS.length}, one fault each)`, () => {
        it("cover every shipped stack, code faults and config faults, and at least fifteen that apply today", () => {
            const applicable = VARIANTS.filter((v) =>
                (v.needs ?? []).every((type) => runs.get(v.stack)!.resources.some((r) => r.type === type)),
            );
            assert.ok(applicable.length >= 15, `${applicable.length} applicable variants`);
            assert.deepEqual([...new Set(VARIANTS.map((v) => v.stack))].sort(), ["drill", "prod", "recover"]);
            assert.ok(VARIANTS.filter((v) => v.kind === "code").length >= 15);
            assert.ok(VARIANTS.some((v) => v.kind === "config"));
        });

        for (const variant of VARIANTS) {
            it(`${variant.stack}, ${variant.kind}: ${variant.name}`, async function () {
                const missing = (variant.needs ?? []).filter(
                    (type) => !runs.get(variant.stack)!.resources.some((r) => r.type === type),
                );
                if (missing.length > 0) {
                    // Pending, not passed: the program does not register these yet (the restore-order wave).
                    this.skip();
                }
                const options = GATED_STACKS[variant.stack];
                const recorded =
                    variant.config === undefined
                        ? runs.get(variant.stack)!
                        : await runProgram({ ...options, config: { ...options.config, ...variant.config } });
                const run = cloneRun(recorded);
                const expected =
                    typeof variant.expect === "function" ? variant.expect(cloneRun(recorded)) : variant.expect;
                assert.ok(expected.length > 0);
                variant.fault?.(run);
                refreshOutputs(run, recorded);
                const { added, removed } = difference(
                    evaluations.get(variant.stack)!,
                    await gateRun(run as unknown as ProgramRun),
                );
                assert.deepEqual(added, expected.map(key));
                assert.deepEqual(removed, []);
            });
        }
    });
});

describe("the restore-order variants on the contract's stacks (until the program registers the restore order)", () => {
    for (const variant of VARIANTS.filter((v) => v.needs !== undefined)) {
        it(`${variant.stack}: ${variant.name}`, async () => {
            const recorded = compliantStack(variant.stack === "prod" ? "protect" : variant.stack).recorded();
            const before = await evaluatePack(analyzedResources(recorded), POLICIES);
            assert.deepEqual(before.violations, []);
            const run = cloneRun(recorded);
            const expected = typeof variant.expect === "function" ? variant.expect(cloneRun(recorded)) : variant.expect;
            variant.fault?.(run);
            refreshOutputs(run, recorded);
            const after = await evaluatePack(analyzedResources(run), POLICIES);
            assert.deepEqual(after.violations.map(key), expected.map(key));
        });
    }
});

describe("the pack over every variant of the program the URN pin records (live outputs)", () => {
    it("passes each: a protect stack's namespace restore, static keys, native snapshots, seeding, a named backup...", async () => {
        const runs = await recordRuns();
        for (const [name, run] of Object.entries(runs)) {
            const evaluation = await gateRun(run);
            assert.deepEqual(
                evaluation.violations.filter((v) => v.enforcementLevel === "mandatory"),
                [],
                `${name}: ${JSON.stringify(evaluation.violations, null, 1)}`,
            );
        }
    });

    it("takes the mode from what the stack registers: a drill whose mode output says protect is still a drill", async () => {
        const drill = cloneRun(await runProgram(GATED_STACKS.drill));
        drill.outputs.mode = "protect";
        const schedule = structuredClone(
            drill.resources.find((r) => r.type === "kubernetes:velero.io/v1:BackupStorageLocation")!,
        );
        // A schedule the relabelled drill would take: judged as a drill, it must not exist.
        schedule.type = "kubernetes:velero.io/v1:Schedule";
        schedule.urn = `${schedule.urn}-schedule`;
        schedule.name = "drill-schedule";
        schedule.inputs = {
            apiVersion: "velero.io/v1",
            kind: "Schedule",
            metadata: { name: "drill-eu-1-daily", namespace: "velero" },
            spec: { schedule: "0 2 * * *", template: { storageLocation: "source" } },
        };
        schedule.outputs = schedule.inputs;
        drill.resources.push(schedule);
        const evaluation = await gateRun(drill as unknown as ProgramRun);
        assert.ok(
            evaluation.violations.some(
                (v) => v.policyName === "velero-drill-read-only" && v.enforcementLevel === "mandatory",
            ),
            JSON.stringify(evaluation.violations, null, 1),
        );
    });
});
