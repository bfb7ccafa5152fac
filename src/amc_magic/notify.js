// amc-magic notifier: shows a browser notification when an execution ends while its notebook is hidden.
// The anywidget ES module of amc_magic.notify.Notifier (no build step). The Python side bumps `fired`
// after setting `title`, `body` and `status`; each new value is one event. The permission is asked at
// most once per browser (the answer is kept in localStorage), on the user's first click on the panel.

const ASKED_KEY = "amc-magic:notification-permission";

function supported() {
  return typeof window !== "undefined" && "Notification" in window;
}

function askedBefore() {
  try {
    return window.localStorage.getItem(ASKED_KEY) !== null;
  } catch (_) {
    return false; // storage blocked: ask, at most once per page
  }
}

function remember(answer) {
  try {
    window.localStorage.setItem(ASKED_KEY, String(answer));
  } catch (_) { /* storage blocked */ }
}

let askedThisPage = false;

async function askOnce() {
  if (!supported() || askedThisPage || askedBefore() || Notification.permission !== "default") return;
  askedThisPage = true;
  try {
    remember(await Notification.requestPermission());
  } catch (_) {
    remember("error");
  }
}

export default {
  // Once per model in this browser page (not per view), so one panel shown twice still notifies once.
  initialize({ model }) {
    const onFired = () => {
      if (!supported() || Notification.permission !== "granted" || document.hidden !== true) return;
      const title = model.get("title");
      const note = new Notification(title, {
        body: model.get("body"),
        tag: "amc-magic:" + title + ":" + model.get("fired"),
      });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    };
    model.on("change:fired", onFired);
    return () => model.off("change:fired", onFired);
  },

  render({ el }) {
    el.dataset.amcNotifier = "true";
    // The notifier's own element is hidden; a click anywhere on the panel around it asks the permission.
    const onClick = (event) => {
      const panel = el.parentElement;
      if (panel && panel.contains(event.target)) {
        document.removeEventListener("click", onClick, true);
        askOnce();
      }
    };
    if (supported() && Notification.permission === "default" && !askedBefore()) {
      document.addEventListener("click", onClick, true);
    }
    return () => {
      document.removeEventListener("click", onClick, true);
    };
  },
};
