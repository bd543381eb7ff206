// Lint rules: typescript-eslint's recommended set with type information, so floating promises and
// unsafe `any` flows are caught in the program, the components, the policies and the tests alike.
import tseslint from "typescript-eslint";

export default tseslint.config(
    // Plain JavaScript run by node itself (no tsconfig covers it), like this file.
    { ignores: ["node_modules/**", "bin/**", "eslint.config.mjs", "scripts/test.mjs"] },
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            "@typescript-eslint/no-explicit-any": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/switch-exhaustiveness-check": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
            eqeqeq: ["error", "always"],
            "prefer-const": "error",
        },
    },
    {
        // The in-cluster tasks and the simulated cluster handle Kubernetes objects as the API serves them: JSON of
        // any shape, read field by field with optional chaining. The tasks are CommonJS scripts mounted into a Job
        // and run by node as they are (no build step), hence require().
        files: ["components/tasks/*.js", "engine/cluster/**/*.ts"],
        rules: {
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-unsafe-call": "off",
        },
    },
    {
        // Tests use chai-less node:assert and mocha's describe/it, whose callbacks may return promises.
        files: ["tests/**/*.ts"],
        rules: {
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
        },
    },
);
