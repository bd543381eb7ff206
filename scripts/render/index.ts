/**
 * `npm run render -- <stack> [--out dir] [--chart name=path]... [--only chart,...]`: the manifests Helm will
 * apply for a stack, and checks on them. docs/render.md explains the output and each check.
 *
 * Runs the program for the stack on the offline engine (engine/), renders every Helm release it
 * registers with a real Helm (`helm template ... --include-crds`), prints the manifests (or writes one file per
 * release), then checks them:
 *  - every velero.io and argoproj.io object, rendered or registered by the program, against its CRD schema
 *    (crds.ts);
 *  - no stack secret in plain text, in the manifests or in the release values (secrets.ts);
 *  - the facts the program relies on, from the chart's objects and the ones the program registers itself
 *    (velero.ts: locations and their access, references, namespaces, node-agent ConfigMap, server flags, IRSA;
 *    argocd.ts: the argocd-cm and argocd-cmd-params-cm keys, resource.exclusions, the root Application).
 * Exits 1 when a check fails, 2 when the stack cannot be rendered (for example a chart that cannot be had; every
 * such chart is named in one run).
 *
 * This file is the command line only. The check functions (`check*`, `validateCustomResources`) are pure
 * functions of parsed manifests and the engine's records, each in the module of its concern, so tests call them
 * directly; stacks.ts holds the stacks and the pipeline.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { ChartUnavailableError, ChartsUnavailableError, HelmError, helmBinary, helmVersion } from "./helm";
import { formatChecks } from "./report";
import { stackRunOptions } from "../../engine";
import { stackFailure, takeSourceOutputs, toolStack } from "../stack-arg";
import { PLACEHOLDERS, STACK_SPECS, StackRender, StackSpec, renderStack } from "./stacks";

function comment(text: string): string {
    return text
        .split("\n")
        .map((l) => (l === "" ? "#" : `# ${l}`))
        .join("\n");
}

interface CliArgs {
    stack: string;
    sourceOutputs?: string;
    out?: string;
    charts: Record<string, string>;
    only?: string[];
}

function parseArgs(all: readonly string[]): CliArgs {
    const usage =
        "usage: npm run render -- <stack|path/to/Pulumi.<stack>.yaml> [--source-outputs <file>] [--out <dir>] [--chart <name>=<path>]... [--only <chart>[,<chart>...]]";
    const { rest: argv, sourceOutputs } = takeSourceOutputs(all);
    let stack: string | undefined;
    let out: string | undefined;
    let only: string[] | undefined;
    const charts: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--out") {
            out = argv[++i];
            if (out === undefined) {
                throw new Error(`--out needs a directory\n${usage}`);
            }
        } else if (a === "--chart") {
            const spec = argv[++i] ?? "";
            const eq = spec.indexOf("=");
            if (eq <= 0) {
                throw new Error(`--chart needs <name>=<path>, got "${spec}"\n${usage}`);
            }
            charts[spec.slice(0, eq)] = path.resolve(spec.slice(eq + 1));
        } else if (a === "--only") {
            only = (argv[++i] ?? "").split(",").filter((c) => c !== "");
            if (only.length === 0) {
                throw new Error(`--only needs chart names\n${usage}`);
            }
        } else if (a === "-h" || a === "--help") {
            throw new Error(usage);
        } else if (stack === undefined && !a.startsWith("-")) {
            stack = a;
        } else {
            throw new Error(`unexpected argument "${a}"\n${usage}`);
        }
    }
    if (stack === undefined) {
        throw new Error(`no stack given\n${usage}\nstacks: ${Object.keys(STACK_SPECS).join(", ")}`);
    }
    return { stack, sourceOutputs, out, charts, only };
}

/**
 * The command line: everything but the manifests is printed as YAML comments, so the output stays a valid
 * YAML stream (`npm run -s render -- prod | kubectl apply --dry-run=server -f -` works). Returns the exit code.
 */
export async function main(
    argv: readonly string[],
    write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number> {
    let args: CliArgs;
    try {
        args = parseArgs(argv);
    } catch (e) {
        write(`${comment((e as Error).message)}\n`);
        return 2;
    }
    let rendered: StackRender;
    try {
        // A shipped name renders as before; a stack file of the user's own, or --source-outputs, is resolved
        // the way every offline tool resolves it (engine/stacks.ts resolveStack).
        const shipped = STACK_SPECS[args.stack];
        const resolved = await toolStack(shipped?.run.stack ?? args.stack, args.sourceOutputs);
        const spec: StackSpec = {
            description: shipped?.description ?? `${resolved.spec.name}: ${resolved.spec.file}`,
            run: stackRunOptions(resolved.spec),
        };
        const note =
            resolved.sourceNote === undefined && shipped !== undefined
                ? PLACEHOLDERS
                : "Secrets are placeholder test values (encrypted stack-file values become test-secret-for-<key>)" +
                  (resolved.sourceNote !== undefined ? `; ${resolved.sourceNote}.` : ".");
        write(
            `${comment(`gitops-dr render: ${spec.description}\n${note}\nHelm ${helmVersion()} (${helmBinary()})`)}\n`,
        );
        rendered = await renderStack(spec.run.stack, { charts: args.charts, onlyCharts: args.only, spec });
    } catch (e) {
        const known =
            e instanceof ChartUnavailableError || e instanceof ChartsUnavailableError || e instanceof HelmError;
        const config = stackFailure(e);
        write(`${comment(config ?? `${known ? "" : "render failed: "}${(e as Error).message}`)}\n`);
        return 2;
    }
    for (const r of rendered.renders) {
        const header = `release ${r.release.releaseName} in ${r.release.namespace}: chart ${r.chart.metadata.name} ${r.chart.metadata.version} (${r.chart.source}: ${r.chart.path}), ${r.objects.length} objects`;
        if (args.out !== undefined) {
            const dir = path.join(args.out, rendered.stack);
            fs.mkdirSync(dir, { recursive: true });
            const file = path.join(dir, `${r.release.releaseName}.yaml`);
            fs.writeFileSync(file, r.manifests);
            write(`${comment(`${header}\n  written to ${file}`)}\n`);
        } else {
            write(`${comment(header)}\n${r.manifests.trimEnd()}\n---\n`);
        }
    }
    if (rendered.renders.length === 0) {
        write(`${comment("the program registers no Helm release")}\n`);
    }
    const failed = rendered.checks.filter((c) => c.status === "fail");
    const warned = rendered.checks.filter((c) => c.status === "warn");
    write(
        `${comment(`Checks for ${rendered.stack}: ${rendered.checks.length - failed.length - warned.length} passed, ${warned.length} warned, ${failed.length} failed\n${formatChecks(rendered.checks)}`)}\n`,
    );
    return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            // A failed program run rejects its own promises later; exit before Node prints them with a trace.
            if (code === 2) {
                process.exit(code);
            }
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`${String(e)}\n`);
            process.exitCode = 2;
        },
    );
}
