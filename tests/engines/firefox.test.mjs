// The page's core in Firefox ESR (Gecko), driven by puppeteer-core over WebDriver BiDi: see common.mjs.
// Run: node --test tests/engines/   (after build/, build-wasm/ and site/ are built; tools/test.sh does it)
import { coreSuite, launchFirefox } from './common.mjs';

coreSuite('Firefox ESR (puppeteer-core over WebDriver BiDi)', launchFirefox);
