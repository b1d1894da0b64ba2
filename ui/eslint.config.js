// ESLint for the front end: typescript-eslint's type-aware recommended rules
// over src/, tests/ and vite.config.ts (the TypeScript project), the plain
// recommended ones over this file. `npm run lint` fails on any warning as
// well as any error.

import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    // Outside tsconfig.json's project: no type information.
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
