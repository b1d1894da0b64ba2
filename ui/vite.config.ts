/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Tauri loads the built files from dist/ (relative paths) and, in
// development, the dev server on a fixed port.
export default defineConfig({
  base: "./",
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The system webviews Tauri v2 supports (WebView2, WebKitGTK, WKWebView).
    target: ["es2021", "chrome105", "safari15"],
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
  },
});
