/**
 * `npm run plan -- <stack>`: the ordered plan of a stack, with no cloud, no credentials and no cluster. Runs the
 * program on the offline engine (engine/), derives the steps that matter from the recorded graph, prints
 * them with what each waits for and its timeout between the few manual steps around `pulumi up`, and writes
 * `docs/runbooks/<stack>.md`: the same plan as numbered steps, a Mermaid graph of the order and, for each step,
 * the output to expect and the command that verifies it.
 *
 * The steps are not a list kept by hand: a registered resource is a step when it waits (a Helm release, a
 * `pulumi.com/waitFor` annotation, a Job, custom timeouts) or is a milestone an operator checks (an Argo CD
 * Application, a Velero Schedule, the vault's bucket and its Object Lock), and the order is the recorded
 * dependency relation, in waves. A cluster with 3 namespaces or 3,000 has the same steps.
 *
 * This file is the command line only: steps.ts selects and describes the steps, order.ts orders them, verify.ts
 * says how to check each, manual.ts writes the manual steps, stack.ts puts a stack's plan together, and
 * runbook.ts turns a plan into the terminal listing and the runbook's Markdown.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { ROOT, STACK_NAMES, isStackName } from "../../engine";
import { takeSourceOutputs, stackFailure, toolStack } from "../stack-arg";
import { formatEstimate, parseEstimateFlags, stackDataPath } from "./estimate";
import { formatPlan, renderRunbook, runbookPath } from "./runbook";
import { planStack } from "./stack";

function usage(): string {
    return (
        `usage: npm run plan -- <${STACK_NAMES.join("|")}|name|path/to/Pulumi.<stack>.yaml> [--source-outputs FILE] [--no-write | --check]\n` +
        "         [--data-gib N --volumes N --nodes N --throughput-mib N]\n" +
        "  prints the ordered plan; for a shipped stack also writes docs/runbooks/<stack>.md (tracked: commit it),\n" +
        "  --check fails when that file is stale. --source-outputs: the JSON of `pulumi stack output --json\n" +
        "  --show-secrets` of the stack a recover or drill stack reads (gitops-dr:sourceStack), or its breakGlass card.\n" +
        "  With the four estimate flags, also how long a recovery of that much data takes (scripts/plan/estimate.ts)\n"
    );
}

async function main(all: readonly string[]): Promise<number> {
    let estimate: ReturnType<typeof parseEstimateFlags>;
    try {
        estimate = parseEstimateFlags(all);
    } catch (e) {
        process.stderr.write(`${(e as Error).message}\n${usage()}`);
        return 2;
    }
    const { rest, sourceOutputs } = takeSourceOutputs(estimate.rest);
    const flags = new Set(rest.filter((a) => a.startsWith("--")));
    const names = rest.filter((a) => !a.startsWith("--"));
    const unknown = [...flags].filter((f) => f !== "--no-write" && f !== "--check");
    if (names.length !== 1 || unknown.length > 0) {
        process.stderr.write(`${unknown.map((f) => `unknown flag ${f}\n`).join("")}${usage()}`);
        return 2;
    }
    const { spec, sourceNote } = await toolStack(names[0], sourceOutputs);
    if (sourceNote !== undefined) {
        process.stderr.write(`plan: ${sourceNote}\n`);
    }
    const { plan, run } = await planStack(spec);
    process.stdout.write(formatPlan(plan));
    if (estimate.input !== undefined) {
        process.stdout.write(formatEstimate(plan, estimate.input, stackDataPath(plan, run)));
    }
    // docs/runbooks holds the shipped stacks' runbooks; a stack of the user's own is printed only.
    if (!isStackName(names[0]) || sourceOutputs !== undefined) {
        return 0;
    }
    const file = runbookPath(plan.stack);
    const runbook = renderRunbook(plan);
    if (flags.has("--check")) {
        const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
        if (current !== runbook) {
            process.stderr.write(`${path.relative(ROOT, file)} is stale: run npm run plan -- ${plan.stack}\n`);
            return 1;
        }
    } else if (!flags.has("--no-write")) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const changed = !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== runbook;
        fs.writeFileSync(file, runbook);
        process.stdout.write(
            `\nRunbook ${changed ? "rewritten" : "unchanged"}: ${path.relative(ROOT, file)} (tracked in git; --no-write leaves it)\n`,
        );
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            const known = stackFailure(e);
            process.stderr.write(`${known ?? (e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`);
            // Exit now: the failed run's own promises reject later, and Node would print them with a stack trace.
            process.exit(known !== undefined ? 2 : 1);
        },
    );
}
