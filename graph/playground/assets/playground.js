// Starts GraphiQL on the playground page. The page carries its settings as a
// JSON data block (#playground-config), so no inline script has to run and the
// Content-Security-Policy can allow scripts from 'self' only.
(function () {
  'use strict';

  var script = document.currentScript;
  // GraphiQL's dialogs (react-remove-scroll) inject a <style> element and tag
  // it with this global's value: the page's per-response style nonce.
  if (script && script.nonce) {
    window.__webpack_nonce__ = script.nonce;
  }

  var cfg = JSON.parse(document.getElementById('playground-config').textContent);

  var url = new URL(cfg.endpoint, location.href);
  var subscriptionUrl;
  if (cfg.subscriptionEndpoint) {
    subscriptionUrl = new URL(cfg.subscriptionEndpoint, location.href);
  } else {
    subscriptionUrl = new URL(url.href);
    subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  }

  var props = {
    fetcher: GraphiQL.createFetcher({
      url: url.href,
      subscriptionUrl: subscriptionUrl.href,
    }),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: cfg.persistHeaders,
    inputValueDeprecation: true,
  };
  if (cfg.defaultTabs && cfg.defaultTabs.length) {
    props.defaultTabs = cfg.defaultTabs;
  }
  if (cfg.defaultQuery) {
    props.defaultQuery = cfg.defaultQuery;
  }
  if (cfg.defaultHeaders) {
    props.defaultHeaders = cfg.defaultHeaders;
  }
  if (cfg.editorTools === 'hidden') {
    props.defaultEditorToolsVisibility = false;
  } else if (cfg.editorTools) {
    props.defaultEditorToolsVisibility = cfg.editorTools;
  }
  if (cfg.storageNamespace) {
    props.storage = GraphiQL.createLocalStorage({ namespace: cfg.storageNamespace });
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, props),
  );
})();
