/**
 * The Pulumi CLI's config stage, applied by the offline engine (engine/cli-config.ts) exactly as
 * `pulumi preview`/`up` applies it before the program starts (pulumi `sdk/go/common/workspace/config.go`
 * `mergeConfig`; the messages are the CLI's own, from its tests `TestStackConfigErrorsWhenMissing...` and
 * `TestStackConfigSecretIsCorrectlyValidated`). Each rule is shown to refuse a crafted Pulumi.yaml/stack pair,
 * and every shipped stack is shown to start under all of them.
 */
import * as assert from "node:assert/strict";

import {
    CliConfigError,
    ProgramConfig,
    applyProjectConfig,
    pulumiConfigSet,
    shellWords,
    validateProjectConfig,
    StackValue,
} from "../engine";
import { readProject, runProgram, stackValues } from "../engine";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

const P = "gitops-dr";
const values = (entries: Record<string, StackValue>) =>
    new Map(Object.entries(entries).map(([k, v]) => [`${P}:${k}`, v]));
const apply = (decls: Record<string, unknown>, stack: Record<string, StackValue>) =>
    applyProjectConfig(P, "prod", validateProjectConfig(P, decls), values(stack));

describe("CLI config stage: the rules", () => {
    it("refuses a stack that lacks a declared key with no default, naming every missing key like the CLI", () => {
        const decls = {
            a: { type: "string" },
            b: { type: "integer" },
            c: { type: "array", items: { type: "string" } },
            d: { type: "string", default: "x" },
        };
        assert.throws(
            () => apply(decls, { a: "set" }),
            new CliConfigError("Stack 'prod' is missing configuration values 'b' and 'c'"),
        );
        assert.throws(
            () => apply(decls, { a: "set", b: 1 }),
            new CliConfigError("Stack 'prod' is missing configuration value 'c'"),
        );
        assert.throws(
            () => apply(decls, {}),
            new CliConfigError("Stack 'prod' is missing configuration values 'a', 'b' and 'c'"),
        );
        assert.deepEqual(apply(decls, { a: "set", b: 1, c: ["x"] }).config, {
            "gitops-dr:d": "x",
            "gitops-dr:a": "set",
            "gitops-dr:b": "1",
            "gitops-dr:c": '["x"]',
        });
    });

    it("refuses a typed secret key set in plain text", () => {
        const decls = { token: { type: "string", secret: true } };
        assert.throws(
            () => apply(decls, { token: "plain" }),
            new CliConfigError("Stack 'prod' with configuration key 'token' must be encrypted as it's secret"),
        );
        const ok = apply(decls, { token: { secure: "s3cret" } });
        assert.equal(ok.config["gitops-dr:token"], "s3cret");
        assert.deepEqual([...ok.secretKeys], ["gitops-dr:token"]);
    });

    it("refuses a value of the wrong type: integer (strconv.Atoi), boolean (true/false only), array (a YAML list)", () => {
        const decls = {
            n: { type: "integer", default: 1 },
            b: { type: "boolean", default: false },
            l: { type: "array", items: { type: "string" }, default: [] },
            s: { type: "string", default: "" },
        };
        assert.throws(
            () => apply(decls, { n: "3.5" }),
            new CliConfigError("Stack 'prod' with configuration key 'n' must be of type 'integer'"),
        );
        assert.throws(
            () => apply(decls, { b: "yes" }),
            new CliConfigError("Stack 'prod' with configuration key 'b' must be of type 'boolean'"),
        );
        // What `pulumi config set gitops-dr:l '["x"]'` (without --path) stores: a string, not a list.
        assert.throws(
            () => apply(decls, { l: '["x"]' }),
            new CliConfigError("Stack 'prod' with configuration key 'l' must be of type 'array<string>'"),
        );
        assert.throws(
            () => apply(decls, { s: ["x"] }),
            new CliConfigError("Stack 'prod' with configuration key 's' must be of type 'string'"),
        );
        // Scalars marshal to strings first: "31" and 31 are both integers, a YAML 3 is a string.
        assert.equal(apply(decls, { n: "31", s: 3, b: true }).config["gitops-dr:n"], "31");
    });

    it("refuses a project file that declares an array without items, or a default for another namespace", () => {
        assert.throws(
            () => validateProjectConfig(P, { l: { type: "array" } }),
            new CliConfigError(
                "The configuration key 'l' declares an array but does not specify the underlying type via the 'items' attribute",
            ),
        );
        assert.throws(
            () => validateProjectConfig(P, { "aws:region": { default: "eu-west-1" } }),
            /should not define a default value/,
        );
        assert.throws(() => validateProjectConfig(P, { x: { type: "map" } }), /value must be one of/);
    });

    it("replays `pulumi config set` as the CLI stores it: --path builds a list, --secret encrypts, plain set stores a string", () => {
        const stack = new Map<string, StackValue>();
        for (const line of [
            "pulumi config set --path 'gitops-dr:storageTransitions[0]' STANDARD_IA:30",
            "pulumi config set --path 'gitops-dr:storageTransitions[1]' GLACIER_IR:90",
            'pulumi config set --secret gitops-dr:repoPassword "abc def"',
            "pulumi config set gitops-dr:lockDays 40",
        ]) {
            pulumiConfigSet(stack, shellWords(line).slice(2), P);
        }
        assert.deepEqual(stack.get("gitops-dr:storageTransitions"), ["STANDARD_IA:30", "GLACIER_IR:90"]);
        assert.deepEqual(stack.get("gitops-dr:repoPassword"), { secure: "abc def" });
        assert.equal(stack.get("gitops-dr:lockDays"), "40");
        assert.throws(
            () => pulumiConfigSet(stack, shellWords("config set --path 'gitops-dr:x[2]' a").slice(1), P),
            /out of range/,
        );
    });
});

describe("CLI config stage: values of your own (maps set with --path)", () => {
    const set = (stack: Map<string, StackValue>, line: string) => pulumiConfigSet(stack, shellWords(line).slice(2), P);

    it("builds a nested map, quoted keys with dots kept whole, true/false and plain integers typed as the CLI types them", () => {
        const stack = new Map<string, StackValue>();
        set(stack, "pulumi config set --path 'gitops-dr:argoCdValues.server.replicas' 2");
        set(stack, `pulumi config set --path 'gitops-dr:argoCdValues.configs.cm["admin.enabled"]' false`);
        set(stack, "pulumi config set --path 'gitops-dr:argoCdValues.server.ingress.hostname' 007");
        assert.deepEqual(stack.get("gitops-dr:argoCdValues"), {
            server: { replicas: 2, ingress: { hostname: "007" } },
            configs: { cm: { "admin.enabled": false } },
        });
    });

    it("removes one path with `config rm --path`, leaving the rest", () => {
        const stack = new Map<string, StackValue>();
        set(stack, "pulumi config set --path 'gitops-dr:veleroValues.resources.limits.memory' 2Gi");
        set(stack, "pulumi config set --path 'gitops-dr:veleroValues.schedules.mine.schedule' '@daily'");
        pulumiConfigSet(stack, shellWords("config rm --path 'gitops-dr:veleroValues.schedules'").slice(1), P);
        assert.deepEqual(stack.get("gitops-dr:veleroValues"), { resources: { limits: { memory: "2Gi" } } });
    });

    it("a secure leaf makes the whole key a secret, reaching the program as plain JSON (config/value.go hasSecureValue)", () => {
        const stack = new Map<string, StackValue>();
        set(stack, "pulumi config set --path 'gitops-dr:argoCdValues.server.replicas' 2");
        set(stack, "pulumi config set --secret --path 'gitops-dr:argoCdValues.configs.secret.githubSecret' s3cr3t");
        assert.deepEqual(stack.get("gitops-dr:argoCdValues"), {
            server: { replicas: 2 },
            configs: { secret: { githubSecret: { secure: "s3cr3t" } } },
        });
        const applied: ProgramConfig = apply(
            { argoCdValues: { type: "object" } },
            Object.fromEntries([["argoCdValues", stack.get("gitops-dr:argoCdValues")!]]),
        );
        assert.deepEqual([...applied.secretKeys], ["gitops-dr:argoCdValues"]);
        assert.deepEqual(JSON.parse(applied.config["gitops-dr:argoCdValues"]), {
            server: { replicas: 2 },
            configs: { secret: { githubSecret: "s3cr3t" } },
        });
    });

    it("refuses a path through a value that is not a map or a list", () => {
        const stack = new Map<string, StackValue>();
        set(stack, "pulumi config set --path 'gitops-dr:veleroValues.image' plain");
        assert.throws(
            () => set(stack, "pulumi config set --path 'gitops-dr:veleroValues.image.tag' v1"),
            /a map was expected for key "tag"/,
        );
        assert.throws(
            () => set(stack, "pulumi config set --path 'gitops-dr:veleroValues.image[0]' v1"),
            /an array was expected for index 0/,
        );
        // A key's own top-level string is overwritten (map.go: "allows overwriting the existing top-level string").
        stack.set("gitops-dr:argoCdValues", "");
        set(stack, "pulumi config set --path 'gitops-dr:argoCdValues.server.replicas' 2");
        assert.deepEqual(stack.get("gitops-dr:argoCdValues"), { server: { replicas: 2 } });
    });
});

describe("CLI config stage: this project", () => {
    it("Pulumi.yaml passes the CLI's project validation", () => {
        const project = readProject();
        assert.equal(project.name, P);
        assert.ok(validateProjectConfig(project.name, project.config).size > 0);
    });

    it("prod, drill and the recover example start: no missing value, no plain-text secret, no type mismatch, no warning", async () => {
        const runs = [
            await runProgram({ stack: "prod", secrets: STACK_SECRETS }),
            await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
            await runProgram({
                stack: "recover",
                config: RECOVER_CONFIG,
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            }),
        ];
        for (const run of runs) {
            assert.deepEqual(run.warnings, [], `${String(run.outputs.mode)} warned`);
        }
    });

    it("prod without the repository password is refused by the CLI before the program runs", async () => {
        await assert.rejects(
            runProgram({ stack: "prod" }),
            /Stack 'prod' is missing configuration value 'repoPassword'/,
        );
    });

    it("a required key set in plain text is refused by the CLI (repoPassword is a typed secret)", async () => {
        await assert.rejects(
            runProgram({ stack: "prod", config: { repoPassword: "plain-text-password-0123" } }),
            /Stack 'prod' with configuration key 'repoPassword' must be encrypted as it's secret/,
        );
    });

    it("a boolean that only looks like one (yes) and a list set without --path are refused with the CLI's type message", async () => {
        await assert.rejects(
            runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { prometheusOperator: "yes" } }),
            /key 'prometheusOperator' must be of type 'boolean'/,
        );
        await assert.rejects(
            runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { storageTransitions: '["STANDARD_IA:30"]' } }),
            /key 'storageTransitions' must be of type 'array<string>'/,
        );
    });

    it("the previous Pulumi.yaml shape (optional keys declared without a default) would not start prod", async () => {
        const project = readProject();
        const crafted = {
            name: project.name,
            config: {
                ...project.config,
                backupSchedule: { type: "string", description: "x" },
                awsAccessKeyId: { type: "string", secret: true },
            },
        };
        await assert.rejects(
            runProgram({ stack: "prod", secrets: STACK_SECRETS, project: crafted }),
            /Stack 'prod' is missing configuration values 'awsAccessKeyId' and 'backupSchedule'/,
        );
    });

    it("declared defaults reach the program as if the stack had set them", () => {
        const program = applyProjectConfig(
            P,
            "prod",
            validateProjectConfig(P, readProject().config),
            stackValues({ stack: "prod", secrets: STACK_SECRETS }),
        );
        assert.equal(program.config["gitops-dr:veleroNamespace"], "velero");
        assert.equal(program.config["gitops-dr:storageTransitions"], "[]");
        assert.equal(program.config["gitops-dr:lockDays"], "31");
        assert.equal(program.config["gitops-dr:monitoringLabels"], '["release=kube-prometheus-stack"]');
        assert.deepEqual([...program.secretKeys], ["gitops-dr:repoPassword"]);
    });
});
