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

import { ROOT, STACKS, STACK_NAMES, isStackName } from "../../engine";
import { formatPlan, renderRunbook, runbookPath } from "./runbook";
import { planStack } from "./stack";

function usage(): string {
    return (
        `usage: npm run plan -- <${STACK_NAMES.join("|")}> [--no-write | --check]\n` +
        "  prints the ordered plan and writes docs/runbooks/<stack>.md; --check fails when that file is stale\n"
    );
}

async function main(argv: readonly string[]): Promise<number> {
    const flags = new Set(argv.filter((a) => a.startsWith("--")));
    const names = argv.filter((a) => !a.startsWith("--"));
    const unknown = [...flags].filter((f) => f !== "--no-write" && f !== "--check");
    if (names.length !== 1 || !isStackName(names[0]) || unknown.length > 0) {
        process.stderr.write(
            `${names.length === 1 && !isStackName(names[0]) ? `unknown stack ${names[0]}\n` : ""}${unknown.map((f) => `unknown flag ${f}\n`).join("")}${usage()}`,
        );
        return 2;
    }
    const { plan } = await planStack(STACKS[names[0]]);
    process.stdout.write(formatPlan(plan));
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
        fs.writeFileSync(file, runbook);
        process.stdout.write(`\nRunbook written to ${path.relative(ROOT, file)}\n`);
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
