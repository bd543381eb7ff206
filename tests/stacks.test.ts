/**
 * The offline tools on a user's own stacks (engine/stacks.ts `resolveStack`, scripts/stack-arg.ts): a stack file
 * anywhere, its source stack's outputs from `--source-outputs`, from the source's own file beside it, or a clear
 * error; a configuration error exits 2 with its problems once and no stack trace.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
    ROOT,
    STACKS,
    StackArgumentError,
    readSourceOutputs,
    readStackFilesFrom,
    resolveStack,
    runProgram,
    stackFilePath,
    stackRunOptions,
} from "../engine";
import { stackFailure, takeSourceOutputs, toolStack } from "../scripts/stack-arg";

/** A homelab user's protect stack: nothing of acme's in it. */
const HOME = `config:
  gitops-dr:mode: protect
  gitops-dr:clusterName: home
  gitops-dr:region: eu-central-1
  gitops-dr:bucketName: jdoe-home-dr-vault
  gitops-dr:lockMode: GOVERNANCE
  gitops-dr:lockDays: 14
  gitops-dr:backupTtl: 336h
  gitops-dr:credentialsMode: staticKeys
  gitops-dr:gitRepoUrl: https://github.com/jdoe/homelab.git
  gitops-dr:gitPath: clusters/home
  gitops-dr:breakGlassPrincipalArns:
    - arn:aws:iam::123456789012:role/home-admin
  gitops-dr:repoPassword:
    secure: AAABAHJlcG9wYXNzd29yZA==
  gitops-dr:awsAccessKeyId:
    secure: AAABAGFjY2Vzcy1rZXktaWQ=
  gitops-dr:awsSecretAccessKey:
    secure: AAABAHNlY3JldC1hY2Nlc3Mta2V5
`;

/** Its recover stack, as `pulumi stack init home-recover --copy-config-from home` and a few sets leave it. */
const HOME_RECOVER = HOME.replace("gitops-dr:mode: protect", "gitops-dr:mode: recover")
    .replace("gitops-dr:clusterName: home", "gitops-dr:clusterName: home2\n  gitops-dr:kubeContext: home2")
    .replace(/ {2}gitops-dr:region: .*\n {2}gitops-dr:bucketName: .*\n/, "")
    .replace(/ {2}gitops-dr:breakGlassPrincipalArns:\n {4}- .*\n/, "")
    .replace("gitops-dr:lockDays: 14", "gitops-dr:lockDays: 14\n  gitops-dr:sourceStack: jdoe/gitops-dr/home")
    .replace("gitops-dr:gitPath: clusters/home", "gitops-dr:gitPath: clusters/home\n  gitops-dr:restoreId: 2026-12-01");

/** `pulumi stack output --json --show-secrets` of the home stack, as a user would save it. */
const HOME_OUTPUTS = {
    bucketName: "jdoe-home-dr-vault",
    region: "eu-central-1",
    kmsKeyArn: "arn:aws:kms:eu-central-1:444455556666:key/0f1e2d3c-aaaa-bbbb-cccc-000011112222",
    prefix: "home",
    clusterName: "home",
    dailyScheduleName: "home-daily",
    credentialsScheduleName: "home-credentials",
};

describe("the offline tools on a user's own stack files", () => {
    let dir: string;
    let elsewhere: string;
    const file = (name: string) => path.join(dir, name);
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-own-stacks-"));
        elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-own-stacks-alone-"));
        fs.writeFileSync(file("Pulumi.home.yaml"), HOME);
        fs.writeFileSync(file("Pulumi.home-recover.yaml"), HOME_RECOVER);
        fs.writeFileSync(path.join(elsewhere, "Pulumi.home-recover.yaml"), HOME_RECOVER);
        fs.writeFileSync(file("outputs.json"), JSON.stringify(HOME_OUTPUTS));
        fs.writeFileSync(file("card.json"), JSON.stringify({ breakGlass: HOME_OUTPUTS }));
        fs.writeFileSync(file("Pulumi.typo.yaml"), HOME.replace("bucketName", "bucketNmae"));
    });
    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(elsewhere, { recursive: true, force: true });
    });

    it("a shipped name is the shipped stack", async () => {
        assert.equal((await resolveStack("prod")).spec, STACKS.prod);
    });

    it("a path names the stack by its file, and its secure: values count as set", async () => {
        const { spec, sourceNote } = await resolveStack(file("Pulumi.home.yaml"));
        assert.equal(spec.name, "home");
        assert.equal(spec.file, file("Pulumi.home.yaml"));
        assert.equal(sourceNote, undefined);
        const run = await runProgram(stackRunOptions(spec));
        assert.equal(run.outputs.bucketName, "jdoe-home-dr-vault");
        assert.equal(run.config["gitops-dr:awsAccessKeyId"], "test-secret-for-gitops-dr:awsAccessKeyId");
    });

    it("a recover stack reads its source's outputs from --source-outputs", async () => {
        const { spec, sourceNote } = await toolStack(file("Pulumi.home-recover.yaml"), file("outputs.json"));
        assert.deepEqual(spec.stackReferences, { "jdoe/gitops-dr/home": HOME_OUTPUTS });
        assert.match(sourceNote!, /outputs\.json/);
        const run = await runProgram(stackRunOptions(spec));
        assert.equal(run.outputs.bucketName, HOME_OUTPUTS.bucketName);
        assert.equal(run.config["gitops-dr:mode"], "recover");
    });

    it("--source-outputs may be the breakGlass card alone", () => {
        assert.deepEqual(readSourceOutputs(file("card.json")), { ...HOME_OUTPUTS, breakGlass: HOME_OUTPUTS });
    });

    it("without --source-outputs, from an offline run of the source stack's own file beside it, and says so", async () => {
        const { spec, sourceNote } = await toolStack(file("Pulumi.home-recover.yaml"));
        const outputs = spec.stackReferences["jdoe/gitops-dr/home"];
        assert.equal(outputs.bucketName, "jdoe-home-dr-vault");
        assert.equal(outputs.region, "eu-central-1");
        assert.match(sourceNote!, /offline run of .*Pulumi\.home\.yaml.*simulated/);
    });

    it("a shipped drill whose sourceStack the user changed reads that stack's own file, not acme's placeholders", async () => {
        const own = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-own-shipped-"));
        const drill = fs
            .readFileSync(stackFilePath("Pulumi.drill.yaml"), "utf8")
            .replace(/gitops-dr:sourceStack: .*/, "gitops-dr:sourceStack: jdoe/gitops-dr/prod");
        fs.writeFileSync(path.join(own, "Pulumi.drill.yaml"), drill);
        fs.writeFileSync(path.join(own, "Pulumi.prod.yaml"), HOME);
        const previous = readStackFilesFrom(own);
        try {
            const { spec, sourceNote } = await toolStack("drill");
            assert.equal(spec.stackReferences["jdoe/gitops-dr/prod"].bucketName, "jdoe-home-dr-vault");
            assert.match(sourceNote!, /offline run of .*Pulumi\.prod\.yaml/);
            // As shipped, it keeps the fixture outputs every test and runbook uses.
            readStackFilesFrom(previous);
            assert.deepEqual(await toolStack("drill"), { spec: STACKS.drill });
        } finally {
            readStackFilesFrom(previous);
            fs.rmSync(own, { recursive: true, force: true });
        }
    });

    it("with neither, says what to pass", async () => {
        await assert.rejects(
            toolStack(path.join(elsewhere, "Pulumi.home-recover.yaml")),
            (e: unknown) =>
                e instanceof StackArgumentError &&
                /reads the outputs of jdoe\/gitops-dr\/home .*--source-outputs FILE.*pulumi stack output --json --show-secrets --stack jdoe\/gitops-dr\/home/.test(
                    e.message,
                ),
        );
    });

    it("rejects a file not named Pulumi.<stack>.yaml, a missing stack and a bad outputs file", async () => {
        await assert.rejects(resolveStack(file("outputs.json")), /a stack file is named Pulumi\.<stack>\.yaml/);
        await assert.rejects(resolveStack("staging"), /unknown stack "staging": not one of prod, drill, recover/);
        fs.writeFileSync(file("bad.json"), "[1]");
        assert.throws(() => readSourceOutputs(file("bad.json")), /not a JSON object of stack outputs/);
        assert.throws(() => takeSourceOutputs(["recover", "--source-outputs"]), StackArgumentError);
        assert.deepEqual(takeSourceOutputs(["a", "--source-outputs=o.json", "--check"]), {
            rest: ["a", "--check"],
            sourceOutputs: "o.json",
        });
    });

    it("a config error is told from a bug: its problems, once", async () => {
        const { spec } = await resolveStack(file("Pulumi.typo.yaml"));
        const error = await runProgram(stackRunOptions(spec)).then(
            () => undefined,
            (e: unknown) => e,
        );
        const told = stackFailure(error);
        assert.ok(told !== undefined);
        assert.match(told, /^gitops-dr: the stack configuration has 2 problems:/);
        assert.match(told, /gitops-dr:bucketNmae: is not a gitops-dr setting; did you mean gitops-dr:bucketName\?/);
        assert.equal(stackFailure(new Error("a bug")), undefined);
    });

    it("npm run plan on a bad stack file exits 2 with the problems once and no stack trace", () => {
        const cli = spawnSync(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                path.join(ROOT, "scripts", "plan", "index.ts"),
                file("Pulumi.typo.yaml"),
            ],
            { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
        );
        assert.equal(cli.status, 2, cli.stdout + cli.stderr);
        assert.equal(cli.stderr.match(/the stack configuration has 2 problems/g)?.length, 1, cli.stderr);
        assert.doesNotMatch(cli.stderr, /^\s+at /m);
        assert.equal(cli.stdout, "");
    });
});
