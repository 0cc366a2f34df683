// Live Beats browser script. One document per tab: links inside the app swap the
// page's <main> (and the sidebar) instead of loading a new document, so the
// <audio> element keeps playing and the live WebSocket stays open. A page opened
// directly is rendered by the server as before; this script only takes over
// navigation once it runs.
"use strict";

(() => {
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const live = body.dataset.live === "true";
  // A signed-out visitor on a public profile (PUBLIC_PROFILES): the page follows the
  // profile's playback and has no controls; its socket accepts only ping and view.
  const publicListener = body.dataset.publicListener === "true";
  const userId = Number(body.dataset.userId);
  const viewedProfileId = () => (body.dataset.profileId ? Number(body.dataset.profileId) : null);
  const isOwner = () => body.dataset.owner === "true";

  // -- flash messages fade after 8 s --------------------------------------------
  function fadeFlash(element) {
    if (element.dataset.fading) return;
    element.dataset.fading = "true";
    setTimeout(() => element.classList.add("fade"), 8000);
    setTimeout(() => element.remove(), 9000);
  }
  function showFlash(kind, message) {
    const element = document.createElement("p");
    element.className = `flash flash-${kind}`;
    element.setAttribute("role", "alert");
    element.textContent = message;
    $("flashes").append(element);
    fadeFlash(element);
  }

  const formatTime = (seconds) => {
    const whole = Math.max(0, Math.floor(seconds));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  };

  // -- screen-reader announcements ------------------------------------------------
  function announce(text) {
    const region = $("announcer");
    if (!region) return;
    // Cleared first so that the same words said twice are announced twice.
    region.textContent = "";
    setTimeout(() => { region.textContent = text; }, 50);
  }

  // -- the account menu: Esc closes it and gives focus back to its button; a click
  // or the keyboard's focus going elsewhere closes it too ---------------------------
  const accountMenu = () => $("account-menu");
  document.addEventListener("keydown", (event) => {
    const menu = accountMenu();
    if (event.key !== "Escape" || !menu || !menu.open || !menu.contains(document.activeElement)) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  document.addEventListener("focusout", (event) => {
    const menu = accountMenu();
    if (menu && menu.open && menu.contains(event.target) && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });
  document.addEventListener("click", (event) => {
    const menu = accountMenu();
    if (menu && menu.open && !menu.contains(event.target)) menu.open = false;
  });

  // -- things each page sets up (again after every swap) ----------------------------
  function setUpPage() {
    document.querySelectorAll(".flash").forEach(fadeFlash);
    if (body.dataset.uploadUrl) setUpUpload();
  }
  setUpPage();
  if (!live) return;

  // -- navigation without reloading ------------------------------------------------
  const PAGE_DATA = ["profileId", "profileUsername", "owner", "uploadUrl", "maxBatch", "maxBytes"];
  const FULL_LOAD_PATHS = /^\/(oauth|signin|signout|files|static|dev)(\/|$)/;
  let pageTitle = document.title;
  let navigation = 0;

  function swappable(url) {
    return url.origin === location.origin && !FULL_LOAD_PATHS.test(url.pathname);
  }

  async function navigate(url, { push = true, method = "GET", form = null } = {}) {
    const ticket = ++navigation;
    let response;
    let html;
    try {
      response = await fetch(url, {
        method,
        body: form,
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      html = await response.text();
    } catch (error) {
      location.assign(url);
      return;
    }
    if (ticket !== navigation) return; // a later click won
    const finalUrl = new URL(response.url);
    const next = new DOMParser().parseFromString(html, "text/html");
    const main = next.querySelector("main.content");
    const signInChanged = next.body.dataset.publicListener !== body.dataset.publicListener;
    if (next.body.dataset.live !== "true" || signInChanged || !main || !swappable(finalUrl)) {
      location.assign(finalUrl.href);
      return;
    }
    const previousProfile = viewedProfileId();
    for (const key of PAGE_DATA) {
      if (key in next.body.dataset) body.dataset[key] = next.body.dataset[key];
      else delete body.dataset[key];
    }
    body.dataset.csrf = next.body.dataset.csrf;
    document.querySelector("main.content").replaceWith(document.adoptNode(main));
    const sidebar = next.getElementById("sidebar");
    if (sidebar && $("sidebar")) {
      $("sidebar").replaceWith(document.adoptNode(sidebar));
      renderActiveUsers(activeUsers);
    }
    pageTitle = next.title;
    if (!(currentSong && currentSong.status === "playing")) document.title = pageTitle;
    if (push) history.pushState(null, "", finalUrl.href);
    else if (finalUrl.href !== location.href) history.replaceState(null, "", finalUrl.href);
    shownPage = location.pathname + location.search;
    if (push) window.scrollTo(0, 0);
    // Screen readers: move to the new content, as a page load would.
    const heading = $("content").querySelector("h1");
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
    setUpPage();
    updateListenButtons();
    updatePlayerSource();
    if (viewedProfileId() !== previousProfile) send({ type: "view", profile: viewedProfileId() });
    else if (currentSong) markSongs(currentSong);
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, location.href);
    if (!swappable(url)) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    navigate(url.href);
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.hasAttribute("data-swap") || event.defaultPrevented) return;
    event.preventDefault();
    navigate(form.action, { method: "POST", form: new URLSearchParams(new FormData(form)) });
  });
  // Going back over an in-page jump (the skip link) changes no page.
  let shownPage = location.pathname + location.search;
  window.addEventListener("popstate", () => {
    if (location.pathname + location.search !== shownPage) navigate(location.href, { push: false });
  });

  // -- the live socket ------------------------------------------------------------
  let socket = null;
  let retryDelay = 500;
  let lastRtt = null;
  let listeningProfileId = null;
  let currentSong = null;
  let activeUsers = [];
  let stateReceived = false;
  // Commands given before the socket is (re)opened are sent once it opens; a
  // ping is not worth keeping, as one goes out on every open.
  const UNSENT_KEPT = 20;
  const unsent = [];

  // A socket opens watching the page's profile (`?profile=`); in-app navigation
  // moves it to another with a `view` message. On a reconnect, the old socket is
  // closed only once the new one is open, so the listener never drops out of the
  // presence list in between.
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const viewing = viewedProfileId();
    const query = viewing ? `?profile=${viewing}` : "";
    const previous = socket;
    const opened = new WebSocket(`${scheme}://${location.host}/live${query}`);
    socket = opened;
    opened.onopen = () => {
      if (opened !== socket) { opened.close(); return; }
      if (previous) { previous.onclose = null; previous.close(); }
      retryDelay = 500;
      $("banner").hidden = true;
      ping();
      for (const message of unsent.splice(0)) opened.send(JSON.stringify(message));
    };
    opened.onmessage = (event) => { if (opened === socket) handle(JSON.parse(event.data)); };
    opened.onclose = (event) => {
      if (opened !== socket) return;
      if (event.code === 4001) { location.assign("/signin"); return; }
      $("banner").hidden = false;
      setTimeout(() => { if (opened === socket) connect(); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
    if (previous && previous.readyState !== WebSocket.OPEN) { previous.onclose = null; previous.close(); }
  }
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    } else if (message.type !== "ping") {
      unsent.push(message);
      if (unsent.length > UNSENT_KEPT) unsent.shift();
    }
  }
  function ping() {
    send({ type: "ping", sent_at: performance.now(), rtt_ms: lastRtt });
  }
  setInterval(ping, 5000);

  function handle(message) {
    switch (message.type) {
      case "state":
        $("ping-region").textContent = message.region;
        $("ping").title = `Connected to ${message.region}; database in ${message.primary_region}`;
        setListening(message.listening_profile_id);
        renderActiveUsers(message.active_users);
        loadSong(message.player);
        // After a reconnect or a server resync, events may have been missed.
        if (stateReceived && viewedProfileId()) refreshSongs();
        stateReceived = true;
        break;
      case "pong":
        if (typeof message.sent_at === "number") lastRtt = Math.round(performance.now() - message.sent_at);
        $("ping-ms").textContent = lastRtt ?? "…";
        $("ping-region").textContent = message.region;
        break;
      case "playback":
        if (message.profile_id === listeningProfileId) loadSong(message.song);
        if (message.profile_id === viewedProfileId()) markSongs(message.song);
        break;
      case "listening":
        setListening(message.profile_id);
        loadSong(message.player);
        break;
      case "listeners": renderListeners(message); break;
      case "active_users": renderActiveUsers(message.users); break;
      case "songs_changed":
      case "songs_deleted":
        if (message.profile_id === viewedProfileId()) refreshSongs();
        break;
      case "songs_reordered":
        if (message.profile_id === viewedProfileId()) reorderRows(message.order);
        break;
      case "profile_renamed":
        profileNames.delete(message.profile_id);
        if (message.profile_id === listeningProfileId) updatePlayerSource();
        if (message.profile_id === viewedProfileId()) navigate(`/${message.username}`, { push: false });
        break;
      case "tagline_changed":
        if (message.profile_id === viewedProfileId() && $("tagline")) $("tagline").textContent = message.tagline;
        break;
      case "signed_out": location.assign("/signin"); break;
      case "error": showFlash("error", message.message); break;
    }
  }

  // -- who is being heard ------------------------------------------------------------
  const profileNames = new Map();
  function setListening(profileId) {
    listeningProfileId = profileId;
    updateListenButtons();
    updatePlayerSource();
  }
  async function profileName(profileId) {
    if (profileId === viewedProfileId() && body.dataset.profileUsername) {
      profileNames.set(profileId, body.dataset.profileUsername);
    }
    if (!profileNames.has(profileId)) {
      const response = await fetch("/profile/listening", { headers: { Accept: "application/json" } });
      const answer = response.ok ? await response.json() : {};
      if (answer.profile_id) profileNames.set(answer.profile_id, answer.username);
    }
    return profileNames.get(profileId);
  }
  // The player bar names the profile heard when it is someone else's; its own
  // "Stop listening" is left out on that profile's page, which has one already.
  async function updatePlayerSource() {
    const heard = listeningProfileId;
    const source = $("player-source");
    if (!source) return; // a public listener's player names no source: it is the profile shown
    if (heard === null || heard === userId) { source.hidden = true; return; }
    const name = await profileName(heard).catch(() => undefined);
    if (heard !== listeningProfileId) return;
    if (!name) { source.hidden = true; return; }
    $("player-profile").textContent = name;
    $("player-profile").href = `/${name}`;
    $("player-stop").hidden = heard === viewedProfileId();
    source.hidden = false;
  }
  $("player-stop")?.addEventListener("click", () => send({ type: "stop_listening" }));

  // -- player: everyone hears the same second ------------------------------------------
  // The server says how far into the song it is when it sends a message; the song
  // has moved on by the time the browser can actually play (a click on "Listen
  // now", buffering, a throttled background tab). So the position to seek to is
  // computed when playback really starts, and re-checked while it plays.
  const audio = $("audio");
  const DRIFT_ALLOWED = 0.12;
  const RESYNC_INTERVAL_MS = 2000;
  let receivedAt = 0;
  let lastResync = 0;

  function serverPosition() {
    if (!currentSong) return 0;
    if (currentSong.status !== "playing") return currentSong.elapsed;
    const oneWay = lastRtt ? lastRtt / 2000 : 0;
    const position = currentSong.elapsed + oneWay + (performance.now() - receivedAt) / 1000;
    return Math.min(position, currentSong.duration);
  }
  function resync(force = false) {
    if (!currentSong || currentSong.status !== "playing" || audio.paused) return;
    const target = serverPosition();
    if (!force && Math.abs(audio.currentTime - target) <= DRIFT_ALLOWED) return;
    lastResync = performance.now();
    audio.currentTime = target;
  }
  function startPlaying() {
    audio.play().then(() => resync()).catch((error) => {
      if (error.name === "NotAllowedError") openAutoplayDialog();
    });
  }

  function loadSong(song) {
    const previous = currentSong;
    currentSong = song;
    receivedAt = performance.now();
    if ($("player-controls")) $("player-controls").hidden = !(song && song.profile_id === userId);
    if (!song || song.status !== "playing") $("player-resume").hidden = true;
    if (!song) {
      audio.pause();
      audio.removeAttribute("src");
      audio.load();
      $("player-title").textContent = "Nothing playing";
      $("player-artist").textContent = "";
      $("player-progress").value = 0;
      $("player-time").textContent = "0:00";
      document.title = pageTitle;
      setToggle(false);
      if (previous) announce("Playback stopped");
      return;
    }
    $("player-title").textContent = song.title;
    $("player-artist").textContent = song.artist;
    const changed = !sameSong(audio.src, song.id);
    if (changed) audio.src = song.url;
    const playing = song.status === "playing";
    if (changed || Math.abs(audio.currentTime - serverPosition()) > DRIFT_ALLOWED) audio.currentTime = serverPosition();
    setToggle(playing);
    if (playing) {
      document.title = `${song.title} - ${song.artist} (Now Playing)`;
      if ("mediaSession" in navigator) {
        navigator.mediaSession.metadata = new MediaMetadata({ title: song.title, artist: song.artist });
      }
      if (audio.paused) startPlaying();
    } else {
      document.title = pageTitle;
      audio.pause();
    }
    if (!previous || previous.id !== song.id || previous.status !== song.status) {
      announce(playing ? `Now playing: ${song.title} by ${song.artist}` : `Paused: ${song.title}`);
    }
    if (song.profile_id === viewedProfileId()) markSongs(song);
  }
  const sameSong = (src, id) => new RegExp(`/files/${id}\\?`).test(src);
  function setToggle(playing) {
    $("player-toggle")?.setAttribute("aria-label", playing ? "Pause" : "Play");
    $("player").dataset.status = playing ? "playing" : "paused";
  }

  // Playback that starts late (after buffering or a click) seeks to where the
  // song is now, and a drift beyond DRIFT_ALLOWED is corrected while it plays.
  audio.addEventListener("playing", () => resync());
  audio.addEventListener("timeupdate", () => {
    if (!currentSong) return;
    if (performance.now() - lastResync > RESYNC_INTERVAL_MS) resync();
    $("player-progress").value = audio.currentTime / currentSong.duration;
    $("player-time").textContent = `${formatTime(audio.currentTime)} / ${formatTime(currentSong.duration)}`;
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) resync(); });
  audio.addEventListener("ended", () => {
    const song = currentSong;
    if (!song || publicListener) return; // the signed-in listeners' pages advance the song
    setTimeout(() => send({ type: "ended", song_id: song.id }), Math.random() * 1500);
  });

  // -- "Listen now" when the browser blocked autoplay ----------------------------------
  const autoplayDialog = $("autoplay-dialog");
  let focusBeforeDialog = null;
  function openAutoplayDialog() {
    if (autoplayDialog.open) return;
    focusBeforeDialog = document.activeElement;
    autoplayDialog.showModal();
    $("autoplay-listen").focus();
  }
  function listenNow() {
    if (currentSong && currentSong.status === "playing") {
      audio.currentTime = serverPosition();
      startPlaying();
    }
  }
  // Dismissed with Esc, the dialog leaves a "Listen now" in the player bar.
  autoplayDialog.addEventListener("close", () => {
    if (focusBeforeDialog && focusBeforeDialog.isConnected) focusBeforeDialog.focus();
    $("player-resume").hidden = !(audio.paused && currentSong && currentSong.status === "playing");
  });
  $("autoplay-listen").addEventListener("click", () => {
    listenNow();
    autoplayDialog.close();
  });
  $("player-resume").addEventListener("click", listenNow);
  audio.addEventListener("playing", () => { $("player-resume").hidden = true; });

  $("player-prev")?.addEventListener("click", () => send({ type: "prev" }));
  $("player-next")?.addEventListener("click", () => send({ type: "next" }));
  $("player-toggle")?.addEventListener("click", () => {
    if (currentSong) send({ type: "toggle", song_id: currentSong.id });
  });

  // -- profile page -------------------------------------------------------------------
  function markSongs(song) {
    document.querySelectorAll("#songs tr[data-song-id]").forEach((row) => {
      const status = song && Number(row.dataset.songId) === song.id ? song.status : "stopped";
      row.dataset.status = status;
      const toggle = row.querySelector(".song-toggle");
      if (toggle) toggle.setAttribute("aria-label", `${status === "playing" ? "Pause" : "Play"} ${toggle.dataset.title}`);
      const text = row.querySelector(".status-text");
      if (text) text.textContent = status === "stopped" ? "" : `(${status})`;
    });
  }
  function updateListenButtons() {
    if (!$("listen")) return;
    const listening = listeningProfileId === viewedProfileId();
    const focused = document.activeElement;
    $("listen").hidden = listening;
    $("stop-listening").hidden = !listening;
    // Keep the keyboard where it was: the button pressed has just been hidden.
    if (focused === $("listen") && listening) $("stop-listening").focus();
    if (focused === $("stop-listening") && !listening) $("listen").focus();
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("#listen")) send({ type: "listen", profile_id: viewedProfileId() });
    else if (event.target.closest("#stop-listening")) send({ type: "stop_listening" });
  });
  async function refreshSongs() {
    const username = body.dataset.profileUsername;
    const response = await fetch(`/${username}/songs/table`);
    if (response.redirected) { location.assign(response.url); return; }
    if (!response.ok) return;
    const rows = await response.text();
    // The page may have moved on while the table was on its way: look again after every await.
    const tbody = $("songs");
    if (!tbody || username !== body.dataset.profileUsername) return;
    tbody.innerHTML = rows;
    const count = tbody.querySelectorAll("tr[data-song-id]").length;
    const counter = $("songs-count");
    if (counter) counter.textContent = `${count} song${count === 1 ? "" : "s"}`;
    if (currentSong && currentSong.profile_id === viewedProfileId()) markSongs(currentSong);
  }
  function reorderRows(order) {
    const tbody = $("songs");
    if (!tbody) return; // a reorder that arrives after moving to a page without the song list
    const focused = document.activeElement;
    order.forEach((id) => {
      const row = tbody.querySelector(`tr[data-song-id="${id}"]`);
      if (row) tbody.append(row);
    });
    const rows = [...tbody.querySelectorAll("tr[data-song-id]")];
    rows.forEach((row, index) => {
      const up = row.querySelector(".move[data-direction='-1']");
      const down = row.querySelector(".move[data-direction='1']");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === rows.length - 1;
    });
    // A moved button keeps the keyboard focus; at the end of the list, its twin takes it.
    if (focused && tbody.contains(focused)) {
      const target = focused.disabled ? focused.parentElement.querySelector(".move:not([disabled])") : focused;
      (target || focused).focus();
    }
    const moved = focused && focused.closest && focused.closest("tr[data-song-id]");
    if (moved) {
      const title = moved.querySelector(".song-title").textContent;
      announce(`${title} moved to position ${rows.indexOf(moved) + 1} of ${rows.length}`);
    }
  }
  function avatar(user) {
    if (user.avatar_url) {
      const image = document.createElement("img");
      image.className = "avatar";
      image.src = user.avatar_url;
      image.alt = "";
      return image;
    }
    const initial = document.createElement("span");
    initial.className = "avatar avatar-initial";
    initial.setAttribute("aria-hidden", "true");
    initial.textContent = user.username.slice(0, 1).toUpperCase();
    return initial;
  }
  function profileLink(user) {
    const link = document.createElement("a");
    link.href = `/${user.username}`;
    link.textContent = user.username;
    return link;
  }
  function badge(user) {
    const item = document.createElement("li");
    item.className = "badge";
    item.title = user.username;
    const name = document.createElement("span");
    name.append(profileLink(user));
    item.append(avatar(user), name);
    if (user.meta && user.meta.ping_ms !== undefined) {
      const detail = document.createElement("small");
      detail.textContent = `${user.meta.ping_ms} ms · ${user.meta.region}`;
      item.append(detail);
    }
    return item;
  }
  function renderListeners(message) {
    if (!$("listeners") || message.profile_id !== viewedProfileId()) return;
    $("listener-count").textContent = message.count;
    $("listeners").replaceChildren(...message.users.map(badge));
    const more = message.count - message.users.length;
    $("more-listeners").hidden = more <= 0;
    $("more-listeners").querySelector("span").textContent = more;
  }
  function renderActiveUsers(users) {
    activeUsers = users;
    const list = $("active-users");
    if (!list) return;
    list.replaceChildren(...users.map((user) => {
      const item = document.createElement("li");
      const link = profileLink(user);
      link.prepend(avatar(user));
      item.append(link);
      return item;
    }));
  }

  // Owner controls on the songs table: play/pause, move up/down (the keyboard's and
  // phone's way to reorder), delete, and drag and drop for a mouse.
  document.addEventListener("click", (event) => {
    const tbody = $("songs");
    if (!isOwner() || !tbody || !tbody.contains(event.target)) return;
    const row = event.target.closest("tr[data-song-id]");
    if (!row) return;
    const songId = Number(row.dataset.songId);
    const deleteButton = event.target.closest("button.delete");
    const moveButton = event.target.closest("button.move");
    if (deleteButton) {
      if (confirm("Delete this song?")) send({ type: "delete", song_id: songId });
    } else if (moveButton) {
      const rows = [...tbody.querySelectorAll("tr[data-song-id]")];
      const position = rows.indexOf(row) + Number(moveButton.dataset.direction);
      if (position >= 0 && position < rows.length) send({ type: "move", song_id: songId, position });
    } else if (!event.target.closest("a")) {
      send({ type: "toggle", song_id: songId });
    }
  });
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    dragged = isOwner() && event.target.closest ? event.target.closest("#songs tr[data-song-id]") : null;
  });
  document.addEventListener("dragover", (event) => { if (dragged) event.preventDefault(); });
  document.addEventListener("drop", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const target = event.target.closest("#songs tr[data-song-id]");
    const rows = [...$("songs").querySelectorAll("tr[data-song-id]")];
    if (target && target !== dragged) {
      send({ type: "move", song_id: Number(dragged.dataset.songId), position: rows.indexOf(target) });
    }
    dragged = null;
  });

  connect();

  // -- upload page ---------------------------------------------------------------------
  // MPEG audio frame headers (ISO/IEC 11172-3, 13818-3): enough to tell a file's
  // length from its first frame, using the Xing/Info or VBRI frame count when the
  // encoder wrote one and the constant bit rate otherwise.
  const MP3_HEAD_BYTES = 256 * 1024;
  const BITRATES_KBPS = {
    "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  };
  BITRATES_KBPS["2-3"] = BITRATES_KBPS["2-2"];
  const SAMPLE_RATES = { 1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 2.5: [11025, 12000, 8000] };
  function mp3Duration(view, fileSize) {
    let offset = 0;
    if (view.byteLength >= 10 && view.getUint8(0) === 0x49 && view.getUint8(1) === 0x44 && view.getUint8(2) === 0x33) {
      const size = [6, 7, 8, 9].reduce((total, index) => (total << 7) | (view.getUint8(index) & 0x7f), 0);
      offset = 10 + size;
    }
    for (; offset + 4 <= view.byteLength; offset += 1) {
      const header = view.getUint32(offset);
      if ((header >>> 21) !== 0x7ff) continue;
      const version = [2.5, null, 2, 1][(header >>> 19) & 3];
      const layer = [null, 3, 2, 1][(header >>> 17) & 3];
      const bitrate = version && layer ? BITRATES_KBPS[`${version === 1 ? 1 : 2}-${layer}`][(header >>> 12) & 15] : 0;
      const sampleRate = version ? SAMPLE_RATES[version][(header >>> 10) & 3] : undefined;
      if (!bitrate || !sampleRate) continue;
      const samples = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
      const mono = ((header >>> 6) & 3) === 3;
      const sideInfo = layer !== 3 ? 0 : version === 1 ? (mono ? 17 : 32) : (mono ? 9 : 17);
      const frames = frameCount(view, offset + 4 + sideInfo) ?? frameCount(view, offset + 36, true);
      if (frames) return (frames * samples) / sampleRate;
      return ((fileSize - offset) * 8) / (bitrate * 1000);
    }
    return NaN;
  }
  function frameCount(view, at, vbri = false) {
    if (at + 16 > view.byteLength) return null;
    const tag = String.fromCharCode(...[0, 1, 2, 3].map((index) => view.getUint8(at + index)));
    if (vbri) return tag === "VBRI" ? view.getUint32(at + 14) : null;
    if ((tag !== "Xing" && tag !== "Info") || !(view.getUint32(at + 4) & 1)) return null;
    return view.getUint32(at + 8);
  }

  function setUpUpload() {
    const input = $("files");
    const zone = $("drop-zone");
    const list = $("upload-list");
    const saveButton = $("upload-save");
    const errorBox = $("upload-error");
    const maxBatch = Number(body.dataset.maxBatch);
    const maxBytes = Number(body.dataset.maxBytes);
    let entries = [];

    const showError = (message) => { errorBox.textContent = message; errorBox.hidden = !message; };
    const refreshSave = () => {
      saveButton.disabled = !entries.length || entries.some((entry) => !entry.token);
    };

    input.addEventListener("change", () => chooseFiles([...input.files]));
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      chooseFiles([...event.dataTransfer.files]);
    });

    function chooseFiles(files) {
      showError("");
      if (files.length > maxBatch) {
        showError(`You can upload at most ${maxBatch} files at a time (you chose ${files.length}).`);
        input.value = "";
        return;
      }
      entries = [];
      list.replaceChildren();
      files.forEach((file) => {
        const entry = { file, token: null, element: uploadRow(file) };
        entries.push(entry);
        list.append(entry.element);
        readDuration(entry);
        if (file.size > maxBytes) {
          failEntry(entry, `${file.name} is larger than ${maxBytes / 1048576} MB, the most a song file may be.`);
        } else {
          sendFile(entry);
        }
      });
      refreshSave();
    }

    function uploadRow(file) {
      const item = document.createElement("li");
      item.innerHTML = `<div class="file-head"><span class="file-name"></span> <span class="file-duration"></span></div>
        <progress max="100" value="0"></progress>
        <p class="field-error" role="alert" hidden></p>
        <div class="fields" hidden>
          <label>Title <input name="title" required></label>
          <label>Artist <input name="artist" required></label>
          <label>Attribution <input name="attribution"></label>
        </div>`;
      item.querySelector(".file-name").textContent = file.name;
      item.querySelector("progress").setAttribute("aria-label", `Uploading ${file.name}`);
      return item;
    }
    // The browser reads the file's length itself, before the upload finishes; the
    // server's reading (which is what gets stored) replaces it once it answers.
    // Read from the file's first frame header, not through an <audio> element: the
    // page's Content-Security-Policy allows no blob: media.
    function showDuration(entry, seconds) {
      if (Number.isFinite(seconds) && seconds > 0) entry.element.querySelector(".file-duration").textContent = formatTime(seconds);
    }
    async function readDuration(entry) {
      const seconds = mp3Duration(new DataView(await entry.file.slice(0, MP3_HEAD_BYTES).arrayBuffer()), entry.file.size);
      if (!entry.durationFromServer) showDuration(entry, seconds);
    }
    function failEntry(entry, message) {
      const error = entry.element.querySelector(".field-error");
      error.textContent = message;
      error.hidden = false;
      entry.element.classList.add("failed");
      // A refused file's (hidden, empty) fields must not stop the others from being saved.
      entry.element.querySelectorAll(".fields input").forEach((input) => { input.disabled = true; });
      entries = entries.filter((other) => other !== entry);
      refreshSave();
    }
    function sendFile(entry) {
      const request = new XMLHttpRequest();
      request.open("POST", `${body.dataset.uploadUrl}/uploads?filename=${encodeURIComponent(entry.file.name)}`);
      request.setRequestHeader("X-CSRF-Token", body.dataset.csrf);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("Content-Type", "audio/mpeg");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) entry.element.querySelector("progress").value = (100 * event.loaded) / event.total;
      });
      request.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(request.responseText); } catch (error) { answer = {}; }
        if (request.status !== 200) {
          failEntry(entry, answer.error || `${entry.file.name}: upload failed (${request.status}).`);
          return;
        }
        entry.token = answer.token;
        entry.durationFromServer = true;
        showDuration(entry, answer.duration);
        const fields = entry.element.querySelector(".fields");
        fields.querySelector("[name=title]").value = answer.title;
        fields.querySelector("[name=artist]").value = answer.artist;
        fields.querySelector("[name=attribution]").value = answer.attribution;
        fields.hidden = false;
        refreshSave();
      });
      request.addEventListener("error", () => failEntry(entry, `${entry.file.name}: the upload was interrupted; please try again.`));
      request.send(entry.file);
    }

    $("upload-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      saveButton.disabled = true;
      const songs = entries.map((entry) => ({
        token: entry.token,
        title: entry.element.querySelector("[name=title]").value,
        artist: entry.element.querySelector("[name=artist]").value,
        attribution: entry.element.querySelector("[name=attribution]").value,
      }));
      const response = await fetch(body.dataset.uploadUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": body.dataset.csrf },
        body: JSON.stringify({ songs }),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) { if (live) navigate(answer.redirect); else location.assign(answer.redirect); return; }
      showError(answer.error || `Saving failed (${response.status}).`);
      refreshSave();
    });
  }
})();
