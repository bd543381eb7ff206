/**
 * `npm run catalogue`: prints the `config:` block of Pulumi.yaml (`-- readme`: the README's inputs table), both
 * generated from the key catalogue (components/config/keys.ts); `-- write` rewrites both files. tests/catalogue.test.ts fails when the files differ
 * from what this prints, so the catalogue stays the one source.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { stringify } from "yaml";

import { CONFIG_KEYS, ConfigKeySpec, isDeclared, projectDeclarations } from "../components/config/keys";

/** The `config:` block of Pulumi.yaml. */
export function pulumiYamlConfigBlock(): string {
    return stringify({ config: projectDeclarations() }, { lineWidth: 0 });
}

const show = (v: unknown) => (v === undefined ? "" : `\`${JSON.stringify(v)}\``);

/** The README's inputs table. */
export function readmeInputsTable(): string {
    const rows = (Object.entries(CONFIG_KEYS) as [string, ConfigKeySpec][]).map(([key, s]) => {
        const required = s.required === true ? "yes" : "";
        const declared = isDeclared(s) ? "yes" : "";
        const type = `${s.type}${s.secret === true ? ", secret" : ""}`;
        const modes = (s.modes ?? ["protect", "recover", "drill"]).join(", ");
        return `| \`gitops-dr:${key}\` | ${s.description.replace(/\|/g, "\\|")} | ${type} | ${show(s.default)} | ${required} | ${modes} | ${declared} |`;
    });
    return [
        "| key | description | type | default | required | modes | in Pulumi.yaml |",
        "|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n");
}

/** Rewrites Pulumi.yaml's `config:` block (keeping the lines above it) and the README's inputs table. */
export function writeCatalogue(root: string): void {
    const projectFile = path.join(root, "Pulumi.yaml");
    const project = fs.readFileSync(projectFile, "utf8");
    fs.writeFileSync(projectFile, project.slice(0, project.indexOf("\nconfig:\n") + 1) + pulumiYamlConfigBlock());
    const readmeFile = path.join(root, "README.md");
    const readme = fs.readFileSync(readmeFile, "utf8");
    const start = readme.indexOf("| key | description | type | default | required | modes | in Pulumi.yaml |");
    const end = readme.indexOf("\n\n", start);
    if (start < 0 || end < 0) {
        throw new Error("README.md has no inputs table to replace");
    }
    fs.writeFileSync(readmeFile, readme.slice(0, start) + readmeInputsTable() + readme.slice(end));
}

if (require.main === module) {
    const what = process.argv[2] ?? "yaml";
    if (!["yaml", "readme", "write"].includes(what) || process.argv.length > 3) {
        process.stderr.write(
            `unknown argument ${JSON.stringify(process.argv.slice(2).join(" "))}\n` +
                "usage: npm run catalogue -- [yaml | readme | write]\n" +
                "  yaml: Pulumi.yaml's config block; readme: the README inputs table; write: both, into the files\n",
        );
        process.exit(2);
    }
    if (what === "write") {
        writeCatalogue(path.resolve(__dirname, ".."));
    } else {
        process.stdout.write(what === "readme" ? `${readmeInputsTable()}\n` : pulumiYamlConfigBlock());
    }
}
