// Typeset the TeX of HTML files in place with MathJax (SVG output): the page needs no script
// and no network to show its mathematics. Run by autograder/feedback/typeset.py:
//   NODE_PATH=hub/node_modules node typeset_math.js FILE.html...
//   NODE_PATH=hub/node_modules node typeset_math.js --serve    (file paths on stdin, one a line)
// Text in <pre>, <code>, <script>, <style> and <textarea> is left alone (MathJax's default).
const fs = require("fs");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AssistiveMmlHandler } = require("mathjax-full/js/a11y/assistive-mml.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor({ fontSize: 14 });
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));

function typesetFile(file) {
  const doc = mathjax.document(fs.readFileSync(file, "utf8"), {
    InputJax: new TeX({
      packages: AllPackages.filter((name) => name !== "bussproofs"),
      inlineMath: [["$", "$"], ["\\(", "\\)"]],
      displayMath: [["$$", "$$"], ["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true,
    }),
    OutputJax: new SVG({ fontCache: "global" }),
  });
  doc.render();
  fs.writeFileSync(file, adaptor.doctype(doc.document) + "\n" + adaptor.outerHTML(adaptor.root(doc.document)));
  return Array.from(doc.math).length;
}

if (process.argv[2] === "--serve") {
  // long-running (the grading service's graders): a file per line on stdin, a JSON line for each
  // on stdout, so that MathJax is loaded once rather than for every learner's feedback
  const lines = require("readline").createInterface({ input: process.stdin });
  lines.on("line", (file) => {
    let out;
    try {
      out = { typeset: typesetFile(file) };
    } catch (err) {
      out = { error: String(err) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  });
} else {
  let count = 0;
  for (const file of process.argv.slice(2)) count += typesetFile(file);
  console.log(JSON.stringify({ typeset: count }));
}
