import "./components/ps-app.ts";
