// The page's core in WebKit (Safari's engine): WebKitGTK's MiniBrowser, driven by selenium-webdriver
// through WebKitWebDriver under xvfb-run: see common.mjs.
// Run: node --test tests/engines/   (after build/, build-wasm/ and site/ are built; tools/test.sh does it)
import { coreSuite, launchWebKit } from './common.mjs';

coreSuite('WebKitGTK MiniBrowser (selenium-webdriver, WebKitWebDriver under xvfb-run)', launchWebKit);
