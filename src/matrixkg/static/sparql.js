// The query page: YASGUI preset to this server's endpoint, with the example queries one choice away.
// Nothing here, nor in the YASGUI configuration below, fetches from another host: the endpoint catalogue
// lists only this endpoint, prefixes come from the page (not prefix.cc), and the class/property
// autocompleters (which ask the LOV service) are switched off.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("sparql-config").textContent);
  var root = document.getElementById("yasgui");
  if (!root || typeof Yasgui === "undefined") {
    return;
  }
  var offline = ["prefixes", "variables"];
  Yasgui.Yasqe.defaults.autocompleters = offline.slice();

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: config.endpoint }]; },
      keys: [],
    },
    persistenceId: null,
    populateFromUrl: false,
    yasqe: { value: config.defaultQuery, prefixCcApi: null },
    yasr: { prefixes: config.prefixes },
  });

  function offlineOnly(tab) {
    var yasqe = tab && tab.getYasqe();
    if (!yasqe) {
      return;
    }
    ["class", "property"].forEach(function (name) {
      if (yasqe.autocompleters[name]) {
        yasqe.disableCompleter(name);
      }
    });
  }

  function load(text, run) {
    var tab = yasgui.getTab();
    offlineOnly(tab);
    tab.setEndpoint(config.endpoint);
    tab.setQuery(text);
    if (run) {
      tab.query();
    }
  }

  yasgui.on("tabSelect", function (instance, tabId) { offlineOnly(instance.getTab(tabId)); });
  yasgui.on("tabAdd", function (instance, tabId) { offlineOnly(instance.getTab(tabId)); });
  offlineOnly(yasgui.getTab());
  window.matrixkgYasgui = yasgui;  // for the browser tests

  if (config.initialQuery) {
    load(config.initialQuery, true);
  }

  var select = document.getElementById("example-select");
  if (select) {
    select.addEventListener("change", function () {
      var chosen = config.examples.filter(function (q) { return q.name === select.value; })[0];
      if (chosen) {
        load(chosen.text, false);
      }
    });
  }
}());
