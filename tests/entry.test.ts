/**
 * The program's entry, as a user meets it: configuration problems (including those only the source stack's
 * outputs reveal) stop the run before any resource is registered; every physical name fits its service's
 * limit whatever the stack is called.
 */
import * as assert from "node:assert/strict";

import { ProgramError, ProgramRun, runProgram } from "../engine";
import { PROD_OUTPUTS, RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

const failure = async (run: Promise<ProgramRun>): Promise<ProgramError> =>
    run.then(
        () => assert.fail("the run went on"),
        (e: unknown) => {
            assert.ok(e instanceof ProgramError, String(e));
            return e;
        },
    );

describe("program entry", () => {
    it("a recovery cluster named like the lost one stops before any resource, naming the source stack's output", async () => {
        const error = await failure(
            runProgram({
                stack: "recover",
                config: { ...RECOVER_CONFIG, clusterName: "prod-eu-1" },
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
        );
        assert.match(
            error.message,
            /gitops-dr:prefix: "prod-eu-1" overlaps the source prefix "prod-eu-1" \(the source stack acme\/gitops-dr\/prod's output prefix\)/,
        );
        assert.match(error.message, /gitops-dr:clusterName: "prod-eu-1" is the lost cluster's name/);
        // Only the stack itself; the source stack's outputs were read, nothing was created.
        assert.deepEqual(
            error.resources.map((r) => r.type),
            ["pulumi:pulumi:Stack"],
        );
        assert.deepEqual(
            error.reads.map((r) => r.type),
            ["pulumi:pulumi:StackReference"],
        );
    });

    it("a source prefix that contains the new prefix is refused too (a writer scoped to prod would reach prod/eu-1)", async () => {
        const refs = { "acme/gitops-dr/prod": { ...PROD_OUTPUTS, prefix: "prod/eu-1" } };
        const error = await failure(
            runProgram({
                stack: "recover",
                config: { ...RECOVER_CONFIG, prefix: "prod" },
                secrets: STACK_SECRETS,
                stackReferences: refs,
            }),
        );
        assert.match(error.message, /gitops-dr:prefix: "prod" overlaps the source prefix "prod\/eu-1"/);
        assert.deepEqual(
            error.resources.map((r) => r.type),
            ["pulumi:pulumi:Stack"],
        );
    });

    it("a region that only looks like one is refused with the closest one, before any resource", async () => {
        const error = await failure(
            runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { region: "eu-wset-1" } }),
        );
        assert.match(
            error.message,
            /gitops-dr:region: "eu-wset-1" is not an AWS region the pinned @pulumi\/aws knows; did you mean eu-west-1\?/,
        );
        assert.deepEqual(
            error.resources.map((r) => r.type),
            ["pulumi:pulumi:Stack"],
        );
    });

    it("a boolean the CLI does not type (undeclared key) is still refused unless true or false", async () => {
        const error = await failure(
            runProgram({
                stack: "recover",
                config: { ...RECOVER_CONFIG, acceptPartiallyFailedRestore: "yes" },
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
        );
        assert.match(
            error.message,
            /gitops-dr:acceptPartiallyFailedRestore: "yes" is not a boolean; only true and false are/,
        );
    });

    it("every problem at once: CLI-valid values that the program refuses, all in one error", async () => {
        const error = await failure(
            runProgram({
                stack: "prod",
                secrets: STACK_SECRETS,
                config: {
                    region: "eu-wset-1",
                    lockDays: 36500,
                    lockMode: "COMPLIANCE",
                    monitoringLabels: ["release"],
                    backupSchedule: "0 2 * * 7",
                },
            }),
        );
        for (const key of ["region", "lockDays", "monitoringLabels", "backupSchedule"]) {
            assert.match(error.message, new RegExp(`gitops-dr:${key}: `), key);
        }
    });
});

describe("physical names fit their services' limits, whatever the stack is called", () => {
    const longCluster = "a-cluster-name-of-exactly-forty-chars-xx";
    const stack = "production-eu-central-1-recovery-and-more";
    let runs: ProgramRun[];
    before(async () => {
        assert.equal(longCluster.length, 40);
        const base = { stackFile: false as const, secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES };
        runs = [
            await runProgram({
                ...base,
                stack,
                config: {
                    mode: "protect",
                    clusterName: longCluster,
                    region: "eu-west-1",
                    bucketName: "b".repeat(55),
                    replicaRegion: "eu-central-1",
                    replicaBucketName: "r".repeat(63),
                    oidcProviderArn: RECOVER_CONFIG.oidcProviderArn,
                    gitRepoUrl: RECOVER_CONFIG.gitRepoUrl,
                    weeklyBackupTtl: "744h",
                    monthlyBackupTtl: "744h",
                    breakGlassPrincipalArns: ["arn:aws:iam::111122223333:role/vault-break-glass"],
                },
            }),
            await runProgram({
                ...base,
                stack,
                config: { ...RECOVER_CONFIG, clusterName: longCluster, restoreId: "r".repeat(22) },
            }),
            await runProgram({
                ...base,
                stack,
                config: {
                    ...RECOVER_CONFIG,
                    mode: "drill",
                    clusterName: longCluster,
                    restoreId: "d".repeat(22),
                    drillChecks: ["shop/deploy/api true"],
                },
            }),
        ];
    });

    const names = (run: ProgramRun, type: string, field = "name") =>
        run
            .ofType(type)
            .map((r) => r.inputs[field])
            .filter((n): n is string => typeof n === "string");

    it("IAM: role names at most 64, name prefixes at most 38, policy names at most 128", () => {
        for (const run of runs) {
            for (const n of names(run, "aws:iam/role:Role")) assert.ok(n.length <= 64, n);
            for (const n of names(run, "aws:iam/role:Role", "namePrefix")) assert.ok(n.length <= 38, n);
            for (const n of names(run, "aws:iam/policy:Policy")) assert.ok(n.length <= 128, n);
            // No IAM resource is autonamed from the stack name (autonaming adds 7 characters to <project>-<stack>-...).
            for (const r of run.ofType("aws:iam/role:Role"))
                assert.ok(r.inputs.name !== undefined || r.inputs.namePrefix !== undefined, r.name);
            for (const r of run.ofType("aws:iam/policy:Policy")) assert.ok(r.inputs.name !== undefined, r.name);
        }
    });

    it("S3: bucket names at most 63", () => {
        for (const n of names(runs[0], "aws:s3/bucket:Bucket", "bucket")) assert.ok(n.length <= 63, n);
        // The vault, its replica and the audit trail's log bucket.
        assert.equal(names(runs[0], "aws:s3/bucket:Bucket", "bucket").length, 3);
    });

    it("Helm: release names at most 53", () => {
        for (const run of runs)
            for (const n of names(run, "kubernetes:helm.sh/v3:Release")) assert.ok(n.length <= 53, n);
    });

    it("Kubernetes: every object name at most 63 (DNS label), Velero objects included", () => {
        for (const run of runs) {
            for (const r of run.resources.filter(
                (x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:helm.sh/v3:Release",
            )) {
                const name = (r.inputs.metadata as { name?: string } | undefined)?.name;
                assert.ok(typeof name === "string", `${r.name} has an explicit metadata.name`);
                assert.ok(name.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name), `${r.type} ${name}`);
            }
        }
    });
});
