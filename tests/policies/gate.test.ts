import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { blocks, evaluatePack, validateConfig } from "../../policies/gate/evaluate";
import { analyzedResources } from "../../policies/gate/recording";
import { formatTable, resourceOf } from "../../policies/gate/table";
import { POLICIES } from "../../policies/policies";
import { N, compliantStack, violationsOf } from "../../policies/testing/stack";
import { vaultReplicaMissing } from "../../policies/rules/vault-replica-missing";
import { GATED_STACKS } from "../../scripts/policy";
import { runProgram } from "../../engine";

const ROOT = path.resolve(__dirname, "../..");
const withoutReplica = (() => {
    const protect = compliantStack("protect");
    return protect.without(
        N.replication,
        ...protect.resources.filter((r) => r.name.startsWith("vault-replica-")).map((r) => r.name),
    );
})();

describe("offline gate: evaluation as the analyzer server does it", () => {
    it("takes the enforcement level from configuration, then the policy, with `all` for every policy", async () => {
        const levels = async (config: Parameters<typeof violationsOf>[2]) =>
            (await violationsOf(withoutReplica, vaultReplicaMissing, config)).map((v) => v.enforcementLevel);
        assert.deepEqual(await levels({}), ["advisory"]);
        assert.deepEqual(await levels({ "vault-replica-missing": "mandatory" }), ["mandatory"]);
        assert.deepEqual(await levels({ "vault-replica-missing": { enforcementLevel: "mandatory" } }), ["mandatory"]);
        assert.deepEqual(await levels({ all: "mandatory" }), ["mandatory"]);
        assert.deepEqual(await levels({ all: "mandatory", "vault-replica-missing": "advisory" }), ["advisory"]);
        assert.deepEqual(await levels({ "vault-replica-missing": "disabled" }), []);
    });

    it("blocks only on a mandatory violation", async () => {
        const evaluation = await evaluatePack(withoutReplica.analyzed(), POLICIES);
        assert.equal(evaluation.violations.length, 1);
        assert.equal(blocks(evaluation), false);
        assert.equal(
            blocks(await evaluatePack(withoutReplica.analyzed(), POLICIES, { "vault-replica-missing": "mandatory" })),
            true,
        );
    });

    it("rejects configuration the CLI would reject: unknown policies, levels and properties, wrong types", () => {
        assert.throws(
            () => validateConfig({ "no-such-policy": "mandatory" }, POLICIES),
            /invalid policy configuration: "no-such-policy" is not a policy of this pack/,
        );
        assert.throws(
            () => validateConfig({ "vault-replica-missing": "blocking" as never }, POLICIES),
            /vault-replica-missing: "blocking" is not an enforcement level/,
        );
        assert.throws(
            () => validateConfig({ "vault-bucket-object-lock": { minLockDays: "ten" } }, POLICIES),
            /vault-bucket-object-lock\/minLockDays: must be integer/,
        );
        assert.throws(
            () => validateConfig({ "vault-bucket-object-lock": { minLockDays: 0 } }, POLICIES),
            /vault-bucket-object-lock\/minLockDays: must be >= 1/,
        );
        assert.throws(
            () => validateConfig({ "vault-bucket-versioning": { minLockDays: 40 } }, POLICIES),
            /vault-bucket-versioning: must NOT have additional properties/,
        );
        assert.doesNotThrow(() =>
            validateConfig(
                {
                    all: "mandatory",
                    "velero-schedule-excluded-namespaces": {
                        requiredExcludedNamespaces: ["kube-system", "istio-system"],
                    },
                },
                POLICIES,
            ),
        );
    });

    it("records why a policy did not apply", async () => {
        const evaluation = await evaluatePack(compliantStack("drill").analyzed(), POLICIES);
        assert.deepEqual(
            evaluation.notApplicable.find((n) => n.policyName === "velero-schedule-frequency"),
            {
                policyName: "velero-schedule-frequency",
                reason: "applies to protect and recover stacks; this one is drill",
            },
        );
    });

    it("attributes resource violations to the resource and stack violations to what the policy names", async () => {
        const stack = compliantStack("protect")
            .with(N.bucket, (r) => (r.opts.protect = false))
            .without(N.versioning);
        const violations = await evaluatePack(stack.analyzed(), POLICIES);
        assert.deepEqual(
            violations.violations.map((v) => [v.policyName, v.urn]),
            [
                ["vault-bucket-versioning", stack.get(N.bucket).urn],
                ["vault-resources-protected", stack.get(N.bucket).urn],
            ],
        );
    });
});

describe("offline gate: the engine's recording as analyzer input", () => {
    it("carries options, parents, dependencies, providers and the stack's outputs", async () => {
        const run = await runProgram(GATED_STACKS.prod);
        const resources = analyzedResources(run);
        const byName = (name: string) => resources.find((r) => r.name === name)!;
        const bucket = byName("gitops-dr-prod-vault-bucket");
        const release = byName("gitops-dr-prod-velero-release");
        const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack")!;

        assert.equal(bucket.opts.protect, true);
        assert.equal(bucket.opts.retainOnDelete, true);
        assert.equal(bucket.parent, byName("gitops-dr-prod-vault").urn);
        assert.equal(bucket.opts.parent, bucket.parent);
        assert.deepEqual(
            bucket.provider && [bucket.provider.type, bucket.provider.name, bucket.provider.props.region],
            ["pulumi:providers:aws", "gitops-dr-prod-aws", "eu-west-1"],
        );
        assert.deepEqual(release.opts.customTimeouts, { createSeconds: 1200, updateSeconds: 1200, deleteSeconds: 0 });
        assert.ok(release.dependencies.includes(byName("gitops-dr-prod-velero-repo-credentials").urn));
        assert.deepEqual(byName("gitops-dr-prod-vault-versioning").propertyDependencies.bucket, [bucket.urn]);
        assert.deepEqual(stack.props, JSON.parse(JSON.stringify(run.outputs)));
        assert.ok(
            byName("gitops-dr-prod-velero-repo-credentials").secretPaths!.some((p) => p.startsWith("stringData")),
        );
    });
});

describe("npm run policy (scripts/policy.ts)", () => {
    const gate = (...args: string[]) =>
        spawnSync(
            process.execPath,
            [require.resolve("ts-node/dist/bin"), "--transpile-only", "scripts/policy.ts", ...args],
            { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
        );

    it("prints a table of violations and exits 1 on a mandatory one, 0 when none is mandatory", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-policy-"));
        const strict = path.join(dir, "strict.json");
        fs.writeFileSync(
            strict,
            JSON.stringify({
                "vault-bucket-object-lock": { minLockDays: 400 },
                "vault-bucket-policy-admits-backups": "disabled",
            }),
        );
        const failed = gate("prod", "--config", strict);
        assert.equal(failed.status, 1, failed.stderr);
        assert.match(failed.stdout, /^LEVEL +POLICY +RESOURCE +MESSAGE$/m);
        assert.match(
            failed.stdout,
            /^mandatory +vault-bucket-object-lock +BucketObjectLockConfiguration gitops-dr-prod-vault-lock +The vault's default retention must be at least 400 days\./m,
        );
        assert.match(failed.stdout, /^prod: 2 mandatory, 0 advisory violations\.$/m);

        const lenient = path.join(dir, "lenient.json");
        fs.writeFileSync(
            lenient,
            JSON.stringify({ all: "advisory", "iam-restore-role-read-only": { allowKopiaBlobWrites: false } }),
        );
        const passed = gate("prod", "drill", "--config", lenient);
        assert.equal(passed.status, 0, passed.stderr);
        assert.match(passed.stdout, /^drill: 0 mandatory, 1 advisory violation\.$/m);
    });

    it("exits 2 on a usage error or an unknown stack", () => {
        const none = gate();
        assert.equal(none.status, 2);
        assert.match(
            none.stderr,
            /name at least one stack \(prod, drill, recover\)\nusage: npm run policy -- <stack\|path\/to\/Pulumi\.<stack>\.yaml>\.\.\. \[--source-outputs <file>\] \[--config <file>\]/,
        );
        const unknown = gate("staging");
        assert.equal(unknown.status, 2);
        assert.match(
            unknown.stderr,
            /unknown stack "staging": not one of prod, drill, recover and no Pulumi\.staging\.yaml/,
        );
    });
});

describe("the gate's table", () => {
    it("names resources from their URNs and sorts mandatory first", () => {
        assert.equal(
            resourceOf(
                "urn:pulumi:prod::gitops-dr::gitops-dr:index:GitopsDr$aws:s3/bucket:Bucket::gitops-dr-prod-vault-bucket",
            ),
            "Bucket gitops-dr-prod-vault-bucket",
        );
        assert.equal(resourceOf(undefined), "(stack)");
        const table = formatTable("x", {
            violations: [
                { policyName: "b-advice", enforcementLevel: "advisory", message: "m1" },
                {
                    policyName: "a-rule",
                    enforcementLevel: "mandatory",
                    urn: "urn:pulumi:x::p::t:m:Kind::n",
                    message: "m2",
                },
            ],
            notApplicable: [],
        });
        assert.deepEqual(table.split("\n").slice(2, 4), [
            "mandatory  a-rule    Kind n    m2",
            "advisory   b-advice  (stack)   m1",
        ]);
        assert.equal(
            formatTable("y", { violations: [], notApplicable: [] }),
            "y: 0 mandatory, 0 advisory violations.\n",
        );
    });
});
