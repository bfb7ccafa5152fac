// amc-magic's JupyterLab extension: an "AMC dashboard" card in the launcher and an item in the Help
// menu, both opening the server extension's dashboard (<base_url>/amc-magic/). In JupyterLab the
// dashboard opens in a main-area tab (an iframe on the same origin, so the server's login cookie
// carries over); in an app without JupyterLab's shell (Notebook 7) it opens in a new browser tab.
// Built with `jupyter-builder build .` into ../src/amc_magic/labextension (see README).

import { ILabShell } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IFrame, LabIcon } from '@jupyterlab/ui-components';

const COMMAND = 'amc-magic:open-dashboard';
const LABEL = 'AMC dashboard';
const CATEGORY = 'AMC';

const dashboardIcon = new LabIcon({
  name: 'amc-magic:dashboard',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M3 3h18v18H3V3zm2 2v14h14V5H5z"/>' +
    '<path d="M7 15h2v2H7zM11 11h2v6h-2zM15 7h2v10h-2z"/>' +
    '</g></svg>'
});

function dashboardUrl() {
  return URLExt.join(PageConfig.getBaseUrl(), 'amc-magic/');
}

function createDashboard() {
  const content = new IFrame({
    // the dashboard runs its own scripts and downloads CSV/Parquet files from the same server
    sandbox: ['allow-scripts', 'allow-same-origin', 'allow-forms', 'allow-downloads', 'allow-popups'],
    referrerPolicy: 'same-origin'
  });
  content.url = dashboardUrl();
  content.addClass('amc-magic-dashboard');
  const widget = new MainAreaWidget({ content });
  widget.id = 'amc-magic-dashboard';
  widget.title.label = LABEL;
  widget.title.caption = 'amc-magic executions: <base_url>/amc-magic/';
  widget.title.icon = dashboardIcon;
  widget.title.closable = true;
  return widget;
}

const plugin = {
  id: 'amc-magic-labextension:plugin',
  description: 'Opens the amc-magic dashboard from the launcher and the Help menu.',
  autoStart: true,
  optional: [ILabShell, ILauncher, IMainMenu, ICommandPalette],
  activate: (app, labShell, launcher, mainMenu, palette) => {
    let dashboard = null;
    app.commands.addCommand(COMMAND, {
      label: LABEL,
      caption: 'Open the amc-magic executions dashboard',
      icon: dashboardIcon,
      execute: () => {
        if (!labShell) {
          window.open(dashboardUrl(), '_blank', 'noopener');
          return null;
        }
        if (!dashboard || dashboard.isDisposed) {
          dashboard = createDashboard();
          app.shell.add(dashboard, 'main');
        }
        app.shell.activateById(dashboard.id);
        return dashboard;
      }
    });
    if (launcher) {
      launcher.add({ command: COMMAND, category: CATEGORY, rank: 0 });
    }
    if (mainMenu) {
      mainMenu.helpMenu.addGroup([{ command: COMMAND }], 5);
    }
    if (palette) {
      palette.addItem({ command: COMMAND, category: CATEGORY });
    }
  }
};

export default plugin;
