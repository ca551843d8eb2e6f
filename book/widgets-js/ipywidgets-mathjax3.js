// ipywidgets' html-manager 1.x typesets widget labels with the MathJax 2 API,
// MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3, which has
// no Hub, so every widget label threw "Cannot read properties of undefined (reading 'Queue')".
// This gives MathJax 3 a Hub.Queue that forwards to MathJax.typesetPromise. It runs on
// DOMContentLoaded (after the deferred MathJax script, before embed.js renders the widgets on
// window "load"); on pages without math MathJax is absent and the widgets skip typesetting.
window.addEventListener("DOMContentLoaded", function () {
  var mathjax = window.MathJax;
  if (!mathjax || mathjax.Hub || !mathjax.startup) {
    return;
  }
  mathjax.Hub = {
    Queue: function (command) {
      var element = command && command[2];
      mathjax.startup.promise
        .then(function () { return mathjax.typesetPromise(element ? [element] : undefined); })
        .catch(function (error) { console.warn("MathJax could not typeset a widget label:", error); });
    }
  };
});
